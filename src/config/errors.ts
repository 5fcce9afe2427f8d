// A config that cannot be used: every error names the file (or `--set`) and the dotted key.

/** A bad config: names the file (or `--set`) and the dotted key. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly key: string | null,
    what: string,
  ) {
    super(key === null ? `${source}: ${what}` : `${source}: ${key}: ${what}`);
    this.name = 'ConfigError';
  }
}
