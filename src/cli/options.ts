// Option helpers shared by the commands.

/** Commander collector for repeatable options such as --set key=value. */
export const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** A timestamp for default run-directory names: 2026-11-26-13-27-05. */
export const stamp = (): string => new Date().toISOString().replace(/[:T]/g, '-').replace(/\..*/, '');
