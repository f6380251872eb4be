using DANNet.Model.IO;
using System.Collections;
using DANNet.Trainer.IO;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DANNet.Trainer.Models.Checkpoints;

/// <summary>
/// PyTorch checkpoints (<c>torch.save</c> of a state dict) in and out. Loading compares every key,
/// shape and dtype with the model before anything is copied — PyBridge's own <c>load_py</c> checks
/// names only, and would load a larger tensor than the file holds with part of it left random —
/// and, strict by default, refuses a file that does not fit with a report naming every key.
/// </summary>
public static class Checkpoint
{
    /// <summary>Compares the checkpoint at <paramref name="path"/> with <paramref name="model"/> without loading it.</summary>
    public static StateDictReport Inspect(nn.Module model, string path)
    {
        var (file, prefix) = Read(path, DataBudget(model));
        try
        {
            var report = Compare(model, path, file, prefix);
            RefuseNonFinite(path, file);
            return report;
        }
        finally { foreach (var t in file.Values) t.Dispose(); }
    }

    /// <summary>
    /// Loads a PyTorch state dict into <paramref name="model"/>. Strict: any missing, unexpected or
    /// mis-shaped key throws <see cref="CheckpointException"/> with the full report, and the model is
    /// left untouched. Not strict: the matching keys are loaded and the report says what was not.
    /// A single <c>module.</c> prefix (DataParallel) or a <c>state_dict</c>/<c>model</c> wrapper is removed.
    /// </summary>
    public static StateDictReport Load(nn.Module model, string path, bool strict = true)
    {
        var (file, prefix) = Read(path, DataBudget(model));
        try
        {
            var report = Compare(model, path, file, prefix);
            if (strict && !report.IsExact)
                throw new CheckpointException($"Checkpoint does not fit {model.GetName()} (strict):\n{report}\nUse a checkpoint of the same " +
                    $"architecture, or load non-strictly to take the matching keys only.");
            var matched = report.Matched.ToDictionary(k => k, k => file[k]);
            RefuseNonFinite(path, matched);
            using (no_grad())
                model.load_state_dict(matched, strict: false);
            return report;
        }
        finally
        {
            foreach (var t in file.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Refuses weights that hold NaN or infinity (a diverged run, a broken file) before they reach a model:
    /// they would load, run and give one class everywhere. The error names the keys.
    /// </summary>
    public static void RefuseNonFinite(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var broken = new List<string>();
        foreach (var (key, t) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!t.is_floating_point()) continue;
            using var finite = t.isfinite();
            long bad = t.numel() - finite.sum().item<long>();
            if (bad > 0) broken.Add($"{key} ({bad} of {t.numel()} values)");
        }
        if (broken.Count > 0)
            throw new CheckpointException($"Checkpoint '{path}' holds NaN or infinite weights in {broken.Count} tensor(s): {string.Join(", ", broken.Take(5))}" +
                $"{(broken.Count > 5 ? $" and {broken.Count - 5} more" : "")}. The weights are broken (a run that diverged?): use an earlier checkpoint.");
    }

    /// <summary>
    /// Loads float tensors given by key (e.g. imported from another format) into <paramref name="model"/>.
    /// Every given key must exist in the model with the same shape, or nothing is loaded; with
    /// <paramref name="requireEveryFileKey"/> the model may have keys the tensors lack (a head left to
    /// its initialisation), never the other way round.
    /// </summary>
    public static StateDictReport LoadTensors(nn.Module model, string source, IReadOnlyDictionary<string, (long[] Shape, float[] Data)> tensors, bool requireEveryFileKey)
    {
        var file = tensors.ToDictionary(kv => kv.Key, kv => tensor(kv.Value.Data, kv.Value.Shape, device: CPU), StringComparer.Ordinal);
        try
        {
            var report = Compare(model, source, file, null);
            if (requireEveryFileKey && (report.Unexpected.Count > 0 || report.Mismatched.Count > 0))
                throw new CheckpointException($"'{source}' does not fit {model.GetName()}:\n{report}");
            using (no_grad())
                model.load_state_dict(report.Matched.ToDictionary(k => k, k => file[k]), strict: false);
            return report;
        }
        finally
        {
            foreach (var t in file.Values) t.Dispose();
        }
    }

    /// <summary>Saves <paramref name="model"/>'s state dict in PyTorch's format, atomically (temporary file, then rename).</summary>
    public static void Save(nn.Module model, string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        using var buffer = new MemoryStream();
        var state = model.state_dict();
        if (state.Values.All(t => t.device_type == DeviceType.CPU)) model.save_py(buffer, leaveOpen: true);
        else
        {
            // A model trained on a GPU is saved from CPU copies: the file loads anywhere, as PyTorch's map_location='cpu' would give.
            var copies = state.ToDictionary(kv => kv.Key, kv => kv.Value.cpu());
            try { PyTorchPickler.PickleStateDict(buffer, copies, leaveOpen: true); }
            finally { foreach (var (key, copy) in copies) if (!ReferenceEquals(copy, state[key])) copy.Dispose(); }
        }
        AtomicFile.WriteAllBytes(full, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>
    /// The most tensor bytes a checkpoint for <paramref name="model"/> is allowed to inflate to: four times its state
    /// dict in float64, plus 64 MB — room for a double-precision save and for a checkpoint of a wider net, whose
    /// mismatch the key-by-key report then names, and far below the gigabytes a few megabytes of deflated zeros
    /// become.
    /// </summary>
    private static long DataBudget(nn.Module model) => 4 * model.state_dict().Values.Sum(t => t.numel() * 8L) + (64L << 20);

    private static (Dictionary<string, Tensor> Tensors, string? Prefix) Read(string path, long dataBudget)
    {
        if (!File.Exists(path)) throw new CheckpointException($"Checkpoint '{path}' does not exist.");
        RefuseOversizedArchive(path, dataBudget);
        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // libtorch's messages carry a multi-line C++ backtrace: the first line says what is wrong.
            string reason = ex.Message.Split('\n', 2)[0].Trim();
            throw new CheckpointException($"Checkpoint '{path}' is not a readable PyTorch state dict ({ex.GetType().Name}: {reason}). Save it with torch.save(model.state_dict(), path).", ex);
        }
        foreach (var wrapper in new[] { "state_dict", "model" })
            if (table.Count == 1 && table[wrapper] is Hashtable inner) table = inner;

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in table)
        {
            if (e.Value is Tensor t) tensors[(string)e.Key] = t;
            else (e.Value as IDisposable)?.Dispose();
        }
        if (tensors.Count == 0) throw new CheckpointException($"Checkpoint '{path}' holds no tensors.");

        const string dataParallel = "module.";
        if (tensors.Keys.All(k => k.StartsWith(dataParallel, StringComparison.Ordinal)))
            return (tensors.ToDictionary(kv => kv.Key[dataParallel.Length..], kv => kv.Value, StringComparer.Ordinal), dataParallel);
        return (tensors, null);
    }

    /// <summary>
    /// torch.save writes a zip whose entries are the tensors' storages: their inflated sizes (from the archive's
    /// directory, before anything is inflated) must fit what the net can need — a few megabytes of deflated zeros can
    /// inflate to gigabytes.
    /// </summary>
    private static void RefuseOversizedArchive(string path, long budget)
    {
        System.IO.Compression.ZipArchive zip;
        try
        {
            zip = System.IO.Compression.ZipFile.OpenRead(path);
        }
        catch (InvalidDataException)
        {
            return; // not a zip (a legacy pickle): the unpickler decides
        }
        using (zip)
        {
            long total = 0;
            foreach (var entry in zip.Entries)
            {
                total += entry.Length;
                if (entry.Length > budget || total > budget)
                    throw new CheckpointException($"Checkpoint '{path}' inflates to more than {budget / 1e6:F0} MB of data ('{entry.FullName}' alone is " +
                        $"{entry.Length / 1e6:F0} MB); the net needs at most that: refused before reading (a corrupt or foreign file).");
            }
        }
    }

    private static StateDictReport Compare(nn.Module model, string path, Dictionary<string, Tensor> file, string? prefix)
    {
        // state_dict() hands out the model's own parameter and buffer tensors: never dispose them here.
        var expected = model.state_dict();
        var matched = new List<string>();
        var mismatched = new List<MismatchedKey>();
        foreach (var (key, t) in expected)
        {
            if (!file.TryGetValue(key, out var f)) continue;
            if (t.shape.SequenceEqual(f.shape) && t.dtype == f.dtype) matched.Add(key);
            else mismatched.Add(new MismatchedKey(key, Describe(t), Describe(f)));
        }
        var missing = expected.Keys.Where(k => !file.ContainsKey(k)).ToList();
        var unexpected = file.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        return new StateDictReport(path, matched, missing, unexpected, mismatched, prefix);
    }

    private static string Describe(Tensor t) => $"[{string.Join("x", t.shape)}] {t.dtype}";
}
