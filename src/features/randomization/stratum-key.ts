/**
 * The canonical name of a stratum: `name=value` for each factor in the configured `stratifyBy` order,
 * joined by `|`, with `%`, `|` and `=` percent-encoded in names and values so that the key can be split
 * back unambiguously. Unstratified designs have the single stratum ''. The key is part of every
 * random-stream message, so this encoding is fixed by docs/randomization.md.
 */
export function stratumKey(stratifyBy: readonly string[], levels: Readonly<Record<string, string>>): string {
  return stratifyBy
    .map((factor) => {
      const level = levels[factor];
      if (level === undefined) throw new RangeError(`no level given for stratification factor ${factor}`);
      return `${encodeStratumComponent(factor)}=${encodeStratumComponent(level)}`;
    })
    .join('|');
}

function encodeStratumComponent(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('|', '%7C').replaceAll('=', '%3D');
}
