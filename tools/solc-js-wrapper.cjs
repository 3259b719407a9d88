#!/usr/bin/env node
// A solc-compatible command line over solc-js (the npm package `solc`), for machines where a
// native solc cannot be installed. It implements what py-solc-x / ape-solidity call:
//   solc --version
//   solc --standard-json [--base-path DIR] [--include-path DIR]... [--allow-paths A,B] < input.json
// Imports that the standard-JSON input does not carry are read from the base and include paths.
// Output is written with process.exitCode (never process.exit()) so Node flushes large stdout on pipes.
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

function parseArgs(argv) {
  const opts = { basePath: null, includePaths: [], allowPaths: [], standardJson: false, version: false, unknown: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case "--version": opts.version = true; break;
      case "--standard-json": opts.standardJson = true; break;
      case "--base-path": opts.basePath = value(); break;
      case "--include-path": opts.includePaths.push(value()); break;
      case "--allow-paths": opts.allowPaths.push(...value().split(",")); break;
      default: opts.unknown.push(arg);
    }
  }
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    process.exitCode = 0;
    return;
  }
  if (!opts.standardJson) {
    process.stderr.write(
      "This solc is a wrapper over solc-js and supports only --version and --standard-json.\n" +
      `Unsupported arguments: ${opts.unknown.join(" ") || "(none)"}\n`
    );
    process.exitCode = 1;
    return;
  }
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths].map((p) => path.resolve(p));
  const findImports = (importPath) => {
    for (const root of roots) {
      const candidate = path.resolve(root, importPath);
      if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
  };
  const input = fs.readFileSync(0, "utf8");
  process.stdout.write(solc.compile(input, { import: findImports }));
  process.exitCode = 0;
}

main();
