#!/usr/bin/env node
// Validates rendered Kubernetes manifests offline: reads multi-document YAML (a file
// argument, or stdin), builds every object with the model class of its apiVersion and
// kind (kubernetes-models for Kubernetes' own kinds, @kubernetes-models/prometheus-operator
// for monitoring.coreos.com) and calls .validate(), which checks it against the JSON
// schema of that kind. A kind with no model fails: nothing passes unchecked.
//
// Prints one line per object ("ok Kind/namespace/name" or "FAIL ...: reasons") and a
// closing "N objects valid" line; exits 0 when every object is valid, 1 otherwise, 2 on
// a usage or parse error.
"use strict";

const fs = require("fs");
const YAML = require("yaml");

// The model packages resolve from NODE_PATH (the test installs them under the build
// tree) or from this folder's node_modules.
const MODEL_PACKAGES = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

function modelClass(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !apiVersion || !kind) {
    throw new Error("no apiVersion or kind");
  }
  // "v1" is the core group; "apps/v1" is group apps, version v1.
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const pkg = MODEL_PACKAGES[group] || "kubernetes-models";
  // Only names made of these characters are looked up, so a manifest cannot make the
  // validator load an arbitrary module path.
  if (!/^[a-z0-9.]*\/?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Za-z0-9]+$/.test(kind)) {
    throw new Error(`unexpected apiVersion/kind ${apiVersion} ${kind}`);
  }
  let mod;
  try {
    mod = require(`${pkg}/${apiVersion}`);
  } catch (e) {
    throw new Error(`no model for apiVersion ${apiVersion} (${pkg})`);
  }
  const cls = mod[kind];
  if (typeof cls !== "function") {
    throw new Error(`no model for kind ${kind} in ${apiVersion}`);
  }
  return cls;
}

// kustomize v5 writes long Secret values as base64 folded over lines. The API server
// decodes them with Go's base64, which ignores \r and \n; the schema's "byte" format does
// not, so the line breaks go before validation (nothing else is changed).
function unwrapBase64(obj) {
  if (!obj || obj.apiVersion !== "v1" || obj.kind !== "Secret" || !obj.data) return;
  if (typeof obj.data !== "object") return;
  for (const [k, v] of Object.entries(obj.data)) {
    if (typeof v === "string") obj.data[k] = v.replace(/[\r\n]/g, "");
  }
}

function describe(obj) {
  const md = (obj && obj.metadata) || {};
  return `${(obj && obj.kind) || "?"}/${md.namespace ? md.namespace + "/" : ""}${md.name || "?"}`;
}

function main() {
  const args = process.argv.slice(2);
  if (args.length > 1) {
    process.stderr.write("usage: validate.js [FILE]   (multi-document YAML; stdin without FILE)\n");
    return 2;
  }
  const text = fs.readFileSync(args.length ? args[0] : 0, "utf8");
  const docs = YAML.parseAllDocuments(text);
  let ok = 0;
  let failed = 0;
  for (const doc of docs) {
    if (doc.errors.length) {
      process.stderr.write(`YAML error: ${doc.errors[0].message}\n`);
      return 2;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue; // an empty document
    unwrapBase64(obj);
    try {
      const Model = modelClass(obj.apiVersion, obj.kind);
      new Model(obj).validate();
      console.log(`ok ${describe(obj)}`);
      ok++;
    } catch (e) {
      console.log(`FAIL ${describe(obj)}: ${e.message}`);
      failed++;
    }
  }
  if (ok + failed === 0) {
    console.log("FAIL: no objects");
    return 1;
  }
  console.log(failed ? `${failed} of ${ok + failed} objects invalid` : `${ok} objects valid`);
  return failed ? 1 : 0;
}

process.exitCode = main();
