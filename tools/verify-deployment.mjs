#!/usr/bin/env node
// Checks that the code at an address is what a standard-JSON input compiles to, with Sourcify's
// own matcher (npm @ethereum-sourcify/lib-sourcify), offline against any RPC (anvil included).
// The compiler is the solc-js already installed (npm `solc`); no compiler is downloaded.
//
//   node tools/verify-deployment.mjs < request.json > result.json
//
// request (stdin; the RPC URL stays out of the process list, public RPC URLs carry API keys):
//   {"solcJsonInput": {...}, "compilerVersion": "0.8.37+commit.f401782d",
//    "compilationTarget": {"path": "contracts/X.sol", "name": "X"},
//    "rpcUrl": "http://127.0.0.1:8545", "chainId": 1337, "address": "0x…", "creationTxHash": "0x…"}
// result (stdout, one JSON object):
//   {"runtimeMatch": "exact_match"|"match"|null, "creationMatch": "exact_match"|"match"|null,
//    "error": null|{"code": "…", "message": "…"}, "compilerVersion": "…", "address": "0x…(checksummed)",
//    "chainId": 1337, "metadata": {…the compiled contract's metadata…}|null}
// "exact_match": the bytecode and its metadata hash are identical (Sourcify's "perfect");
// "match": the same code with different metadata (Sourcify's "partial"); null: no match.
// Exit status: 0 when the check ran (whatever it found), 2 when it could not run (bad request,
// unreachable RPC, compiler error); the error is in the JSON either way. Logs go to stderr.
// VERIFY_LOG_LEVEL=6 logs every step of lib-sourcify's (with timestamps).
//
// package.json also lists @ethereum-sourcify/compilers-types: lib-sourcify 3.4.0 requires it at
// run time (a re-export of TypeScript types, empty in JavaScript) without declaring it.
import { createRequire } from "node:module";
import fs from "node:fs";

const require = createRequire(import.meta.url);
const sourcify = require("@ethereum-sourcify/lib-sourcify");
const solc = require("solc");
const { getAddress } = require("ethers"); // lib-sourcify's own dependency

// lib-sourcify logs with console.info (stdout) by default: keep stdout for the result alone.
sourcify.setLibSourcifyLogger({
  logLevel: Number(process.env.VERIFY_LOG_LEVEL ?? 1),
  setLevel(level) {
    this.logLevel = level;
  },
  log(level, message, metadata) {
    if (level <= this.logLevel) process.stderr.write(`${new Date().toISOString()} lib-sourcify: ${message} ${JSON.stringify(metadata ?? {})}\n`);
  },
});

const MATCH = { perfect: "exact_match", partial: "match" };

// lib-sourcify's compiler interface, over the installed solc-js. It refuses any other version
// than the one installed rather than fetching one.
const solcJs = {
  async compile(version, solcJsonInput /* , forceEmscripten: solc-js is emscripten already */) {
    const installed = solc.version().replace(/\.Emscripten\.clang$/, "");
    if (installed !== version) {
      throw new Error(`the request needs solc ${version}, the installed solc-js is ${installed}`);
    }
    const output = JSON.parse(solc.compile(JSON.stringify(solcJsonInput)));
    const errors = (output.errors || []).filter((e) => e.severity === "error");
    if (errors.length) {
      throw new Error(`solc: ${errors.map((e) => e.formattedMessage || e.message).join("\n")}`);
    }
    return output;
  },
};

function errorOf(err) {
  return { code: err?.code || err?.name || "error", message: String(err?.message || err) };
}

async function main() {
  const request = JSON.parse(fs.readFileSync(0, "utf8"));
  for (const key of ["solcJsonInput", "compilerVersion", "compilationTarget", "rpcUrl", "chainId", "address"]) {
    if (request[key] === undefined) throw Object.assign(new Error(`the request has no ${key}`), { code: "bad_request" });
  }
  if (request.rpcTimeoutMs) sourcify.SourcifyChain.setGlobalRpcTimeout(request.rpcTimeoutMs);
  const chain = new sourcify.SourcifyChain({
    name: `chain ${request.chainId}`,
    chainId: Number(request.chainId),
    rpcs: [{ rpc: request.rpcUrl }],
    supported: true,
  });
  const compilation = new sourcify.SolidityCompilation(
    solcJs,
    request.compilerVersion,
    request.solcJsonInput,
    request.compilationTarget,
  );
  // Checksummed: lib-sourcify compares the creation transaction's address as a string.
  const address = getAddress(request.address);
  const verification = new sourcify.Verification(compilation, chain, address, request.creationTxHash || undefined);
  const result = {
    runtimeMatch: null,
    creationMatch: null,
    error: null,
    compilerVersion: request.compilerVersion,
    address,
    chainId: Number(request.chainId),
  };
  try {
    await verification.verify();
  } catch (err) {
    // "no_match" and friends are findings, not failures: the status below says what matched.
    result.error = errorOf(err);
  }
  const status = verification.status;
  result.runtimeMatch = MATCH[status.runtimeMatch] ?? null;
  result.creationMatch = MATCH[status.creationMatch] ?? null;
  try {
    result.metadata = compilation.metadata ?? null; // what a Sourcify server is sent (`--publish`)
  } catch {
    result.metadata = null; // not compiled: the error says why
  }
  const ran = result.error === null || FINDINGS.has(result.error.code);
  finish(result, ran ? 0 : 2);
}

// Exit once the result is flushed: lib-sourcify leaves RPC timeout timers (and ethers its
// polling) running, which would keep Node alive for the whole RPC timeout.
function finish(result, code) {
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(code));
}

// Verification errors that report what the code is (the check ran), as opposed to why it could not run.
const FINDINGS = new Set([
  "no_match",
  "bytecode_length_mismatch",
  "extra_file_input_bug",
  "creation_bytecode_match_error",
  "contract_not_deployed",
  "onchain_bytecode_is_zero",
]);

main().catch((err) => finish({ runtimeMatch: null, creationMatch: null, error: errorOf(err) }, 2));
