using System.Diagnostics;
using System.Text.Json;
using DANNet.Edge.Configuration;
using DANNet.Edge.Tests.SharedMemory;
using DANNet.Edge.Validation;

namespace DANNet.Edge.Tests.Validation;

/// <summary>
/// deploy/k8s without a cluster: the Jobs checked against the Kubernetes schema and the validator's needs (node check-manifests.mjs,
/// whose packages ./build.sh installs), a broken copy refused, and the Jobs' own arguments run on this machine — every index of the
/// Indexed Job as a process told its index as Kubernetes tells a pod, then the merge Job — with the volumes mapped to folders.
/// </summary>
[Collection(RingProcessCollection.Name)]
public sealed class KubernetesJobTests() : RingFolderTests("dannet-k8s-")
{
    private static readonly string K8s = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "deploy", "k8s"));

    private static (int Code, string Output) Check(params string[] args)
    {
        Assert.True(Directory.Exists(Path.Combine(K8s, "node_modules")), $"{K8s}/node_modules is missing: ./build.sh test installs it (npm ci)");
        return RingProcesses.Finish(RingProcesses.Start("node", [Path.Combine(K8s, "check-manifests.mjs"), .. args]));
    }

    private static readonly string[] Manifests = [Path.Combine(K8s, "validate-job.yaml"), Path.Combine(K8s, "merge-job.yaml")];

    [Fact]
    public void The_jobs_match_the_kubernetes_schema_and_a_broken_copy_is_refused_with_the_reason()
    {
        var (code, output) = Check(Manifests);
        Assert.True(code == 0, output);
        Assert.Contains("Job/dannet-validate: ok", output);
        Assert.Contains("Job/dannet-validate-merge: ok", output);
        string job = File.ReadAllText(Manifests[0]);
        foreach (var (from, to, reason) in new[]
        {
            ("completions: 8", "completions: eight", "does not match the Kubernetes schema"),
            ("restartPolicy: Never", "restartPolicy: Sometimes", "does not match the Kubernetes schema"),
            ("value: \"8\"", "value: \"4\"", "JOB_COMPLETIONS (4) must equal spec.completions (8)"),
            ("            - --resume\n", "            - --min-agreement\n            - \"0.9\"\n", "--min-agreement on a shard judges part of the fleet"),
        })
        {
            Assert.Contains(from, job);
            string broken = Path.Combine(Dir, "broken.yaml");
            File.WriteAllText(broken, job.Replace(from, to));
            var (refused, why) = Check(broken);
            Assert.True(refused == 1, why);
            Assert.Contains(reason, why);
        }
    }

    [Fact]
    public void The_jobs_arguments_validate_the_fleet_in_shards_and_merge_it_on_one_machine()
    {
        var (code, output) = Check(["--args", .. Manifests]);
        Assert.True(code == 0, output);
        var containers = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var shardJob = containers.Single(c => c.GetProperty("job").GetString() == "dannet-validate");
        var mergeJob = containers.Single(c => c.GetProperty("job").GetString() == "dannet-validate-merge");

        // The volumes as folders: the drives with their manifest, the two models, the shared results.
        string drives = Path.Combine(Dir, "drives"), models = Path.Combine(Dir, "models"), results = Path.Combine(Dir, "results");
        Directory.CreateDirectory(models);
        ValidationInputs.Video(Path.Combine(drives, "dusk.avi"), 0, 2);
        ValidationInputs.Video(Path.Combine(drives, "late.avi"), 150, 2);
        ValidationInputs.Stills(Path.Combine(drives, "stills"), 240, 2);
        File.WriteAllLines(Path.Combine(drives, "manifest.txt"), ["dusk.avi", "late.avi", "stills"]);
        File.Move(ValidationInputs.Reweighted(Dir), Path.Combine(models, "candidate.onnx"));
        File.Copy(EdgeDefaults.ModelPath, Path.Combine(models, "deployed.onnx"));
        var volumes = new Dictionary<string, string> { ["drives"] = drives, ["models"] = models, ["results"] = results, ["tmp"] = Path.Combine(Dir, "tmp") };
        string[] Mapped(JsonElement container)
        {
            var mounts = container.GetProperty("mounts").EnumerateObject().Select(m => (Path: m.Value.GetString()!, Folder: volumes[m.Name])).ToList();
            return [.. container.GetProperty("args").EnumerateArray().Select(a => a.GetString()!)
                .Select(a => mounts.FirstOrDefault(m => a == m.Path || a.StartsWith(m.Path + "/", StringComparison.Ordinal)) is { Path: not null } m
                    ? m.Folder + a[m.Path.Length..] : a)];
        }
        Process Pod(JsonElement container, int? index)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { RingProcesses.EdgeDll }.Concat(Mapped(container))) info.ArgumentList.Add(a);
            foreach (var e in container.GetProperty("env").EnumerateObject()) info.Environment[e.Name] = e.Value.GetString();
            if (index is { } i) info.Environment[Shard.IndexVariable] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Environment["TMPDIR"] = volumes["tmp"];
            return Process.Start(info)!;
        }

        int completions = shardJob.GetProperty("completions").GetInt32();
        Directory.CreateDirectory(volumes["tmp"]);
        // Two pods at a time (this machine's cores); each learns its index from JOB_COMPLETION_INDEX.
        foreach (var pair in Enumerable.Range(0, completions).Chunk(2))
            foreach (var p in pair.Select(i => Pod(shardJob, i)).ToList())
            {
                var (podCode, podOutput) = RingProcesses.Finish(p);
                Assert.True(podCode == 0, podOutput);
            }
        string run = Directory.GetDirectories(results).Single();
        Assert.Equal(Enumerable.Range(0, completions).Select(i => $"shard-{i}-of-{completions}"), Directory.GetDirectories(run).Select(Path.GetFileName).Order());

        var (mergeCode, mergeOutput) = RingProcesses.Finish(Pod(mergeJob, null));
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "report", ValidationReport.JsonFile))).RootElement;
        Assert.Equal(6, report.GetProperty("totals").GetProperty("frames").GetInt64());
        Assert.Equal(3, report.GetProperty("totals").GetProperty("drives").GetInt32());
        // The merge Job's exit code is its gates' verdict: 0 when they pass, 4 when one fails.
        bool passed = report.GetProperty("gates").EnumerateArray().All(g => g.GetProperty("passed").GetBoolean());
        Assert.True(mergeCode == (passed ? ValidationOutcome.Passed : ValidationOutcome.GateFailed), mergeOutput);
        Assert.Equal(2, report.GetProperty("gates").GetArrayLength());
    }
}
