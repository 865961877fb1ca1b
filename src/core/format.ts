// Human-readable figures shared by the CLI and the editor, so both say "48.1 KB" the same way.

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** Parses sizes such as `500`, `10k`, `10KB`, `5M`, `1.5GiB` into bytes; undefined when malformed. */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(text);
  if (!match) return undefined;
  const power = ['', 'k', 'm', 'g', 't'].indexOf(match[2].toLowerCase());
  const base = match[3].toLowerCase().startsWith('i') ? 1024 : 1000;
  return Math.round(Number(match[1]) * base ** power);
}

/**
 * `12,345` as en-US writes it, without `toLocaleString`: its first call loads ICU's locale data, 60 ms of a
 * CLI run that otherwise takes a few hundred.
 */
export function thousands(count: number): string {
  if (!Number.isFinite(count)) return String(count);
  const sign = count < 0 ? '-' : '';
  const [whole, fraction] = String(Math.abs(count)).split('.');
  if (/e/i.test(whole)) return String(count);
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return sign + grouped + (fraction ? `.${fraction.slice(0, 3)}` : '');
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${thousands(count)} ${count === 1 ? one : many}`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Local time as `2026-11-25 14:03:12`, the way people read snapshot lists. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
