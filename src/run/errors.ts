/**
 * A run's configuration that cannot run: a setting that does not fit the data or the model, or a
 * run directory that is taken. Messages name the setting by its `al train` flag, which is how
 * most runs are configured; the CLI reports them as usage errors (exit 2).
 */
export class RunConfigError extends Error {
  override name = 'RunConfigError';
}
