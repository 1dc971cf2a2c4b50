// jco 1.35's own WASI shim starts without filesystem preopens, so every jco
// command that reads a WIT path fails ("failed to get path metadata"). This
// preload grants it the filesystem: `node --import ./preopen.mjs jco.js ...`.
import { _addPreopen } from './node_modules/@bytecodealliance/jco-transpile/node_modules/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js';

_addPreopen('/', '/');
