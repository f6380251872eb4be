using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DANNet.Trainer.Models;

namespace DANNet.Trainer.Training;

/// <summary>
/// Binds a <see cref="TrainingConfig"/> once: defaults, then a JSON file, then <c>--set path=value</c>
/// overrides from the command line; relative data paths are resolved against the config file's
/// folder; every value is validated with an error that names the field and the fix.
/// </summary>
public static class TrainingConfigLoader
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    public static TrainingConfig Load(string? path, IEnumerable<string> overrides)
    {
        // Defaults first, the file merged over them, so that every field exists for --set.
        JsonNode root = JsonSerializer.SerializeToNode(new TrainingConfig(), Json)!;
        string baseDir = Directory.GetCurrentDirectory();
        if (path is not null)
        {
            if (!File.Exists(path)) throw new ArgumentException($"Config file '{path}' does not exist.");
            baseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            try
            {
                var file = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })
                    ?? throw new ArgumentException($"Config file '{path}' is empty.");
                Merge(root.AsObject(), file as JsonObject ?? throw new ArgumentException($"Config file '{path}' must hold a JSON object."));
            }
            catch (JsonException ex)
            {
                throw new ArgumentException($"Config file '{path}' is not valid JSON: {ex.Message}");
            }
        }
        foreach (var o in overrides) Apply(root, o);

        TrainingConfig config;
        try
        {
            config = root.Deserialize<TrainingConfig>(Json) ?? throw new ArgumentException("The config is empty.");
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"Config{(path is null ? "" : $" '{path}'")}: {ex.Message} (field {ex.Path}). Check the field's name and type against 'dannet-train train --print-config'.");
        }
        config = ResolvePaths(config, baseDir);
        Validate(config);
        return config;
    }

    /// <summary>Copies <paramref name="source"/> over <paramref name="target"/>, section by section (keys matched case-insensitively).</summary>
    private static void Merge(JsonObject target, JsonObject source)
    {
        foreach (var (key, value) in source.ToList())
        {
            string name = target.Select(kv => kv.Key).FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) ?? key;
            if (target[name] is JsonObject t && value is JsonObject s) Merge(t, s);
            else target[name] = value?.DeepClone();
        }
    }

    /// <summary>Applies one <c>section.field=value</c> override; the value is JSON when it parses as JSON, else a string.</summary>
    private static void Apply(JsonNode root, string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new ArgumentException($"--set '{assignment}': expected section.field=value, e.g. optim.iterations=2000.");
        string[] path = assignment[..eq].Trim().Split('.');
        string raw = assignment[(eq + 1)..].Trim();
        JsonNode? value;
        try { value = JsonNode.Parse(raw); }
        catch (JsonException) { value = JsonValue.Create(raw); }

        var node = root.AsObject();
        for (int i = 0; i < path.Length; i++)
        {
            string key = node.Select(kv => kv.Key).FirstOrDefault(k => string.Equals(k, path[i], StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"--set '{assignment}': '{path[i]}' is not a field of " +
                    $"{(i == 0 ? "the config" : string.Join('.', path[..i]))}; fields there: {string.Join(", ", node.Select(kv => kv.Key))}.");
            if (i == path.Length - 1) node[key] = value;
            else node = node[key] as JsonObject ?? throw new ArgumentException($"--set '{assignment}': '{key}' is a value, not a section.");
        }
    }

    private static TrainingConfig ResolvePaths(TrainingConfig c, string baseDir)
    {
        string? Full(string? p) => string.IsNullOrWhiteSpace(p) ? null : Path.GetFullPath(Path.Combine(baseDir, p));
        return c with
        {
            Data = c.Data with { Source = Full(c.Data.Source)!, Target = Full(c.Data.Target)!, PairCsv = Full(c.Data.PairCsv), ClassFrequencies = Full(c.Data.ClassFrequencies) },
            Model = c.Model with { InitSegmentation = Full(c.Model.InitSegmentation), InitLight = Full(c.Model.InitLight) },
        };
    }

    /// <summary>Checks every value; the message names the field and what would be valid.</summary>
    public static void Validate(TrainingConfig c)
    {
        var errors = new List<string>();
        void Check(bool ok, string field, string rule) { if (!ok) errors.Add($"{field}: {rule}"); }
        try
        {
            var arch = ArchitectureSpec.Parse(c.Model.Architecture);
            if (c.Model.Pretrained == PretrainedWeights.ImageNet && !arch.AcceptsImageNetResNet18)
                errors.Add($"model.pretrained: the ImageNet ResNet-18 fits r18i trunks at full width (e.g. {arch.Head.ToString().ToLowerInvariant()}-r18i-l16), " +
                    $"not {arch}; use such an architecture or pretrained none");
        }
        catch (ArgumentException ex) { errors.Add($"model.architecture: {ex.Message}"); }
        Check(c.Model.Pretrained is PretrainedWeights.None or PretrainedWeights.ImageNet, "model.pretrained",
            $"must be {PretrainedWeights.ImageNet} or {PretrainedWeights.None} (is '{c.Model.Pretrained}')");
        Check(c.Model.DiscriminatorChannels >= 4, "model.discriminatorChannels", $"must be at least 4 (is {c.Model.DiscriminatorChannels}; the reference uses 64)");
        Check(c.Optim.Iterations >= 1, "optim.iterations", $"must be at least 1 (is {c.Optim.Iterations})");
        Check(c.Optim.BatchSize >= 1, "optim.batchSize", $"must be at least 1 (is {c.Optim.BatchSize})");
        Check(c.Optim.GeneratorLr > 0 && c.Optim.DiscriminatorLr > 0, "optim.generatorLr/discriminatorLr", "must be positive");
        Check(c.Optim.Power > 0, "optim.power", "must be positive (0.9 in the reference)");
        Check(c.Augment.SourceScaleMin > 0 && c.Augment.SourceScaleMin <= c.Augment.SourceScaleMax, "augment.sourceScaleMin/Max", "need 0 < min ≤ max");
        Check(c.Augment.TargetScaleMin > 0 && c.Augment.TargetScaleMin <= c.Augment.TargetScaleMax, "augment.targetScaleMin/Max", "need 0 < min ≤ max");
        Check(c.Augment.SourceCrop >= 32 && c.Augment.SourceCrop % 8 == 0, "augment.sourceCrop", $"must be a multiple of 8, at least 32 (is {c.Augment.SourceCrop})");
        Check(c.Augment.TargetResize >= 32 && c.Augment.TargetResize % 8 == 0, "augment.targetResize", $"must be a multiple of 8, at least 32 (is {c.Augment.TargetResize})");
        Check(c.Augment.TargetCrop >= 32, "augment.targetCrop", $"must be at least 32 (is {c.Augment.TargetCrop})");
        Check(c.Run.CheckpointEvery >= 1, "run.checkpointEvery", "must be at least 1");
        Check(c.Run.KeepCheckpoints >= 1, "run.keepCheckpoints", "must be at least 1");
        Check(c.Run.LogEvery >= 1, "run.logEvery", "must be at least 1");
        Check(c.Run.Prefetch is >= 0 and <= 16, "run.prefetch", "must be 0 (batches made in the loop) to 16 iterations ahead");
        Check(c.Run.EvalEvery >= -1, "run.evalEvery", "must be N > 0 (every N iterations), 0 (about ten times over the run) or -1 (only at the end)");
        Check(c.Run.EvalHeight % 4 == 0 && c.Run.EvalWidth % 4 == 0 && c.Run.EvalHeight >= 32 && c.Run.EvalWidth >= 32, "run.evalHeight/evalWidth", "must be multiples of 4 (LightNet), at least 32");
        Check(Torch.TrainingDevice.IsValid(c.Run.Device), "run.device", $"must be cpu, cuda, cuda:N or auto (is '{c.Run.Device}')");
        Check(c.Loss.TrainStrength > 0, "loss.trainStrength", "must be positive (0.05 in the reference)");
        if (errors.Count > 0) throw new ArgumentException("Invalid training config:\n  " + string.Join("\n  ", errors));
    }

    public static string ToJson(TrainingConfig c) => JsonSerializer.Serialize(c, Json);

    /// <summary>
    /// A short hash of what makes the run (goes into checkpoints and exported models; a resume must
    /// match it). Where files live and the device it runs on are not part of it — data roots, the pair list, the frequency file
    /// and initial weights count by file name only — so a data set or a run moved to another disk or
    /// machine still resumes; every value that changes the training does count.
    /// </summary>
    public static string Hash(TrainingConfig c)
    {
        static string? Name(string? path) => path is null ? null : Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
        var located = c with
        {
            Data = c.Data with { Source = Name(c.Data.Source)!, Target = Name(c.Data.Target)!, PairCsv = Name(c.Data.PairCsv), ClassFrequencies = Name(c.Data.ClassFrequencies) },
            Model = c.Model with { InitSegmentation = Name(c.Model.InitSegmentation), InitLight = Name(c.Model.InitLight) },
        };
        var node = JsonSerializer.SerializeToNode(located, Json)!;
        node["run"]!.AsObject().Remove("device");
        node["run"]!.AsObject().Remove("deterministic");
        node["run"]!.AsObject().Remove("prefetch");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(node.ToJsonString(Json))))[..12].ToLower(CultureInfo.InvariantCulture);
    }
}
