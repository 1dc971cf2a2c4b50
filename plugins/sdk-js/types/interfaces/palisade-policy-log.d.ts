declare module 'palisade:policy/log@0.2.3' {
  /**
   * Records a message for the current evaluation.
   */
  export function log(level: Level, message: string): void;
  /**
   * How important a message is.
   * # Variants
   * 
   * ## `"debug"`
   * 
   * Detail for plugin authors.
   * ## `"info"`
   * 
   * Progress.
   * ## `"warn"`
   * 
   * Something worth a look.
   * ## `"error"`
   * 
   * Something failed.
   * ## `"fatal"`
   * 
   * The plugin is about to abort (a Rust panic). The host attaches
   * this message to the error it reports for the evaluation.
   */
  export type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
}
