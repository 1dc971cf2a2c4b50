/// <reference path="./palisade-policy-types.d.ts" />
declare module 'palisade:policy/plugin@0.2.3' {
  /**
   * The plugin's identity, rule documentation and settings. Called once
   * at load.
   */
  export function metadata(): PluginMetadata;
  /**
   * Checks settings (JSON text, already checked against the declared
   * settings) beyond their types. An `err` carries a message for the
   * policy-set author.
   */
  export function validateSettings(settings: string): void;
  /**
   * Judges the facts. Called with a fresh instance for every evaluation;
   * `facts` answers only during this call.
   */
  export function evaluate(): Array<Finding>;
  export type PluginMetadata = import('palisade:policy/types@0.2.3').PluginMetadata;
  export type Finding = import('palisade:policy/types@0.2.3').Finding;
  export type PluginError = import('palisade:policy/types@0.2.3').PluginError;
}
