// Checks the Kubernetes manifests of the fleet validation without a cluster:
//  1. every document against the Kubernetes API's own schema for its kind (the OpenAPI schemas of the
//     `kubernetes-models` package, compiled for ajv: types, required fields, enumerations, formats);
//  2. what the validator needs of them: an Indexed Job whose JOB_COMPLETIONS equals spec.completions,
//     restartPolicy Never, no retry of a shard that failed on its data (exit 1, 2), no gates on a shard,
//     and a merge Job that applies them.
// Usage: node check-manifests.mjs FILE...            prints one line per document, exit 1 on any problem
//        node check-manifests.mjs --args FILE...     prints each container's args and mounts as JSON lines
import { readFileSync } from "node:fs";
import * as yaml from "js-yaml";
import { Job } from "kubernetes-models/batch/v1/Job";

const printArgs = process.argv[2] === "--args";
const files = process.argv.slice(printArgs ? 3 : 2);
if (files.length === 0) {
  console.error("usage: node check-manifests.mjs [--args] FILE...");
  process.exit(2);
}
let problems = 0;
const fail = (where, what) => {
  problems++;
  console.log(`${where}: ${what}`);
};
const gateOptions = ["--min-agreement", "--max-latency-ratio", "--min-miou"];

for (const file of files) {
  let docs;
  try {
    docs = yaml.loadAll(readFileSync(file, "utf8"));
  } catch (e) {
    fail(file, `not YAML (${e.message.split("\n")[0]})`);
    continue;
  }
  for (const doc of docs.filter((d) => d != null)) {
    const where = `${file}: ${doc.kind ?? "?"}/${doc.metadata?.name ?? "?"}`;
    if (doc.apiVersion !== "batch/v1" || doc.kind !== "Job") {
      fail(where, `expected a batch/v1 Job, found ${doc.apiVersion} ${doc.kind}`);
      continue;
    }
    try {
      new Job(doc).validate();
    } catch (e) {
      fail(where, `does not match the Kubernetes schema: ${e.message.replace(/\s+/g, " ").slice(0, 600)}`);
      continue;
    }
    const spec = doc.spec;
    const pod = spec.template.spec;
    if (pod.restartPolicy !== "Never") fail(where, "restartPolicy must be Never (a failed pod is a failed attempt the Job counts)");
    for (const c of pod.containers) {
      const args = c.args ?? [];
      if (args[0] !== "validate") fail(where, `container ${c.name}: args must start with 'validate'`);
      const merge = args[1] === "merge";
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
      if (!merge) {
        if (spec.completionMode !== "Indexed") fail(where, "a shard Job must be completionMode: Indexed (each pod takes its index's drives)");
        if (String(env.JOB_COMPLETIONS) !== String(spec.completions))
          fail(where, `env JOB_COMPLETIONS (${env.JOB_COMPLETIONS}) must equal spec.completions (${spec.completions}): Kubernetes sets only the index`);
        if (!args.includes("--resume")) fail(where, "a shard should pass --resume, so a retried pod keeps the drives it finished");
        for (const g of gateOptions) if (args.includes(g)) fail(where, `${g} on a shard judges part of the fleet: put the gates on the merge Job`);
        const retried = (spec.podFailurePolicy?.rules ?? []).filter((r) => r.action === "FailIndex").flatMap((r) => r.onExitCodes?.values ?? []);
        for (const code of [1, 2]) if (!retried.includes(code)) fail(where, `exit code ${code} (a drive or an argument is bad) should FailIndex, not be retried`);
      } else if (!gateOptions.some((g) => args.includes(g))) fail(where, "the merge Job applies no gate: its exit code would always pass");
      if (printArgs) {
        const mounts = Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.name, m.mountPath]));
        console.log(JSON.stringify({ job: doc.metadata.name, container: c.name, completions: merge ? 1 : spec.completions, args, env, mounts }));
      }
    }
    if (!printArgs) console.log(`${where}: ok`);
  }
}
process.exit(problems === 0 ? 0 : 1);
