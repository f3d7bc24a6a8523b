import { h } from '../dom';

/**
 * Saves what the API answered as a file. The console fetches it itself (with the session cookie and the Accept
 * header a plain link cannot choose), so no key or token ever goes into a URL.
 */
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
