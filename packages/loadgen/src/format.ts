/** Figures as the report and the progress line print them. */

export function formatMs(micros: number): string {
  return `${(micros / 1000).toFixed(micros < 10_000 ? 2 : 1)} ms`;
}

export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
