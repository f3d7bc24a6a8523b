/** What a signature means, fixed by the operation that asks for it (21 CFR 11.50(a)(3)). */
export type SignatureMeaning = 'randomized' | 'recorded withdrawal';

/**
 * An electronic signature (21 CFR 11.200) as stored with the record it signs and in that record's audit row:
 * who (the user's id and printed name at the time of signing), when, and what it means.
 */
export interface ElectronicSignature {
  userId: string;
  name: string;
  signedAt: string;
  meaning: SignatureMeaning;
}
