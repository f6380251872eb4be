using DANNet.Model.Onnx;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Models.Checkpoints;
using Onnx;
using static TorchSharp.torch;

namespace DANNet.Trainer.Models.Pretrained;

/// <summary>Where the pretrained files are and what they hold; thrown when they are missing or are not what we expect.</summary>
public sealed class PretrainedException(string message) : DANNet.Edge.Contracts.FixableException(message);

/// <summary>The two files of the NuGet package, found in the NuGet package folder that restore filled.</summary>
public sealed record ImageNetResNet18Files(string Model, string Preprocess)
{
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18", PackageVersion = "0.23.1";
    private const string ModelPath = "tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx";
    private const string PreprocessPath = "tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx";

    /// <summary>
    /// The package's files in the first NuGet package folder that holds them: <c>NUGET_PACKAGES</c>,
    /// the folder this build restored into, <c>~/.nuget/packages</c>. Never downloads anything.
    /// </summary>
    public static ImageNetResNet18Files Locate() => Locate(DefaultRoots());

    /// <summary>The NuGet package folders searched, in order.</summary>
    public static IReadOnlyList<string> DefaultRoots()
    {
        var roots = new List<string>();
        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env) roots.Add(env);
        var built = typeof(ImageNetResNet18Files).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "DANNet.PretrainedPackageRoot")?.Value;
        if (!string.IsNullOrEmpty(built)) roots.Add(built);
        roots.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"));
        return roots;
    }

    /// <summary>The package's files in the first of <paramref name="roots"/> that holds them.</summary>
    public static ImageNetResNet18Files Locate(IReadOnlyList<string> roots)
    {
        foreach (var root in roots.Distinct(StringComparer.Ordinal))
        {
            string dir = Path.Combine(root, PackageId.ToLowerInvariant(), PackageVersion);
            var files = new ImageNetResNet18Files(Path.Combine(dir, ModelPath), Path.Combine(dir, PreprocessPath));
            if (File.Exists(files.Model) && File.Exists(files.Preprocess)) return files;
        }
        throw new PretrainedException($"The ImageNet-pretrained ResNet-18 comes from the NuGet package {PackageId} {PackageVersion}, which is not in " +
            $"{string.Join(" or ", roots.Distinct(StringComparer.Ordinal))}: run 'dotnet restore trainer/DANNet.Trainer' (it downloads the " +
            "package without adding it to any assembly), or set NUGET_PACKAGES to the folder that holds it.");
    }
}

/// <summary>
/// Imports the ImageNet-pretrained ResNet-18 of <see cref="ImageNetResNet18Files"/> (a CNTK 2.6
/// ONNX export, opset 8) into our <c>r18i</c> trunk (docs/pretrained.md). The graph is read by
/// its topology, not by tensor names: the stem's convolution and BN, then every residual Add with
/// its main branch (conv–BN–ReLU–conv–BN) and its shortcut (identity or a 1x1 projection + BN),
/// stage by stage ([2, 2, 2, 3] blocks). Our keys are the reference trunk's (<c>conv1</c>,
/// <c>bn1</c>, <c>layerS.B.conv1</c>, …, <c>layerS.0.downsample.0/1</c>).
///
/// The file expects BGR 0–255 minus a mean image; our nets take RGB normalised by the ImageNet mean
/// and std. conv1 is linear and bias-free, so its weights are reordered RGB ← BGR and scaled by
/// 255·std, and the remaining constant — the file's per-channel mean against 255·ImageNet mean, under
/// one level — moves into bn1's running mean: inside the image the two are then the same function;
/// within 3 pixels of the border (zero padding) and against the file's non-constant mean image they
/// differ slightly, which <c>dannet-train pretrained check</c> measures.
/// </summary>
public static class ImageNetResNet18
{
    /// <summary>Blocks per stage of the file's net.</summary>
    public static IReadOnlyList<int> Stages { get; } = [2, 2, 2, 3];

    /// <summary>The file's ResNet as found in its graph: tensors in our keys, plus the values that end each stage.</summary>
    public sealed record Graph(string Path, string Sha256, IReadOnlyDictionary<string, (long[] Shape, float[] Data)> Tensors,
        IReadOnlyList<string> StageOutputs, string Input, string Output);

    /// <summary>Reads the file and maps its tensors to our keys, unconverted (the file's own input convention).</summary>
    public static Graph Read(string path)
    {
        if (!File.Exists(path)) throw new PretrainedException($"'{path}' does not exist.");
        byte[] bytes = File.ReadAllBytes(path);
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (Exception ex) when (ex is Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new PretrainedException($"'{path}' is not an ONNX model ({ex.Message}).");
        }
        var g = model.Graph;
        var inits = g.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var producer = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var n in g.Node) foreach (var o in n.Output) producer[o] = n;
        var inputs = g.Input.Select(i => i.Name).Where(n => !inits.ContainsKey(n)).ToList();
        if (inputs.Count != 1 || g.Output.Count != 1) throw Bad(path, $"expected one image input and one output, found {inputs.Count} and {g.Output.Count}");
        string input = inputs[0];

        var tensors = new Dictionary<string, (long[], float[])>(StringComparer.Ordinal);
        NodeProto Producer(string value, string op, string what) =>
            producer.TryGetValue(value, out var n) && n.OpType == op ? n
                : throw Bad(path, $"{what}: expected {op} producing '{value}', found {(producer.TryGetValue(value, out var m) ? m.OpType : "a graph input")}");
        void ConvBn(NodeProto bn, string convKey, string bnKey, int kernel, string what)
        {
            var conv = Producer(bn.Input[0], "Conv", what);
            if (conv.Input.Count != 2) throw Bad(path, $"{what}: convolution '{conv.Name}' has a bias; the trunk's convolutions have none");
            var k = conv.Attribute.FirstOrDefault(a => a.Name == "kernel_shape")?.Ints;
            if (k is null || k.Count != 2 || k[0] != kernel || k[1] != kernel) throw Bad(path, $"{what}: convolution '{conv.Name}' is not {kernel}x{kernel}");
            tensors[convKey + ".weight"] = Initializer(path, inits, conv.Input[1]);
            if (bn.Input.Count != 5) throw Bad(path, $"{what}: BatchNormalization '{bn.Name}' needs scale, bias, mean and variance");
            float eps = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            if (Math.Abs(eps - 1e-5f) > 1e-9f) throw Bad(path, $"{what}: BatchNormalization '{bn.Name}' has epsilon {eps}; the trunk's BN uses 1e-5");
            string[] names = ["weight", "bias", "running_mean", "running_var"];
            for (int i = 0; i < 4; i++) tensors[$"{bnKey}.{names[i]}"] = Initializer(path, inits, bn.Input[i + 1]);
        }

        // The stem: the convolution on the input, its BN, ReLU, max pool.
        var adds = g.Node.Where(n => n.OpType == "Add").ToList();
        if (adds.Count != Stages.Sum()) throw Bad(path, $"expected {Stages.Sum()} residual additions (BasicBlocks {string.Join(",", Stages)}), found {adds.Count}");
        var stemConv = g.Node.FirstOrDefault(n => n.OpType == "Conv" && n.Input[0] == input) ?? throw Bad(path, "no convolution reads the input");
        var stemBn = g.Node.FirstOrDefault(n => n.OpType == "BatchNormalization" && n.Input[0] == stemConv.Output[0]) ?? throw Bad(path, "the first convolution has no BatchNormalization");
        ConvBn(stemBn, "conv1", "bn1", 7, "stem");
        string previous = g.Node.FirstOrDefault(n => n.OpType == "MaxPool")?.Output[0] ?? throw Bad(path, "no max pool after the stem");

        var stageOutputs = new List<string>();
        int a = 0;
        for (int stage = 0; stage < Stages.Count; stage++)
        {
            for (int block = 0; block < Stages[stage]; block++, a++)
            {
                var add = adds[a];
                string key = $"layer{stage + 1}.{block}", what = $"block {key} (node '{add.Name}')";
                // The main branch ends in the BN of a 3x3 convolution fed by a ReLU; the other input is the shortcut.
                bool firstIsMain = IsMainBranch(add.Input[0], producer);
                string main = firstIsMain ? add.Input[0] : add.Input[1], shortcut = firstIsMain ? add.Input[1] : add.Input[0];
                var bn2 = Producer(main, "BatchNormalization", what);
                ConvBn(bn2, $"{key}.conv2", $"{key}.bn2", 3, what);
                var relu = Producer(Producer(bn2.Input[0], "Conv", what).Input[0], "Relu", what);
                var bn1 = Producer(relu.Input[0], "BatchNormalization", what);
                ConvBn(bn1, $"{key}.conv1", $"{key}.bn1", 3, what);
                string blockInput = Producer(bn1.Input[0], "Conv", what).Input[0];
                if (blockInput != previous) throw Bad(path, $"{what}: reads '{blockInput}', expected the previous block's output '{previous}'");
                if (shortcut != previous)
                {
                    var sbn = Producer(shortcut, "BatchNormalization", what);
                    ConvBn(sbn, $"{key}.downsample.0", $"{key}.downsample.1", 1, what);
                    if (Producer(sbn.Input[0], "Conv", what).Input[0] != previous) throw Bad(path, $"{what}: the projection shortcut does not read the block input");
                }
                else if (block == 0 && stage > 0) throw Bad(path, $"{what}: the first block of stage {stage + 1} has no projection shortcut");
                previous = g.Node.FirstOrDefault(n => n.OpType == "Relu" && n.Input[0] == add.Output[0])?.Output[0]
                    ?? throw Bad(path, $"{what}: the residual sum has no ReLU");
            }
            stageOutputs.Add(previous);
        }
        string sha = Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
        return new Graph(path, sha, tensors, stageOutputs, input, g.Output[0].Name);
    }

    private static bool IsMainBranch(string value, Dictionary<string, NodeProto> producer)
    {
        if (!producer.TryGetValue(value, out var bn) || bn.OpType != "BatchNormalization") return false;
        if (!producer.TryGetValue(bn.Input[0], out var conv) || conv.OpType != "Conv") return false;
        return producer.TryGetValue(conv.Input[0], out var relu) && relu.OpType == "Relu";
    }

    /// <summary>The per-channel means (B, G, R order, 0–255) of the preprocessing graph's mean image.</summary>
    public static float[] ReadMeanBgr(string preprocessPath)
    {
        if (!File.Exists(preprocessPath)) throw new PretrainedException($"'{preprocessPath}' does not exist.");
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(preprocessPath));
        var mean = model.Graph.Initializer.FirstOrDefault(t => t.Dims.Count == 4 && t.Dims[0] == 1 && t.Dims[1] == 3)
            ?? throw Bad(preprocessPath, "no 1x3xHxW mean image");
        var (shape, data) = Initializer(preprocessPath, model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal), mean.Name);
        long plane = shape[2] * shape[3];
        var result = new float[3];
        for (int c = 0; c < 3; c++)
        {
            double sum = 0;
            for (long i = 0; i < plane; i++) sum += data[c * plane + i];
            result[c] = (float)(sum / plane);
        }
        return result;
    }

    /// <summary>
    /// The file's tensors converted to our input convention: conv1 for RGB ImageNet-normalised input,
    /// the file's per-channel input mean <paramref name="fileMeanBgr"/> (0–255, BGR) folded into bn1.
    /// </summary>
    public static Dictionary<string, (long[] Shape, float[] Data)> ForNormalisedRgb(Graph graph, IReadOnlyList<float> fileMeanBgr)
    {
        var result = graph.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var (shape, w) = graph.Tensors["conv1.weight"];
        if (shape.Length != 4 || shape[1] != 3) throw Bad(graph.Path, $"the stem convolution takes {(shape.Length == 4 ? shape[1] : 0)} channels, not 3");
        var mean = ModelContract.MeanRgb;
        var std = ModelContract.StdRgb;
        long outC = shape[0], k = shape[2] * shape[3];
        var converted = new float[w.Length];
        var offset = new double[outC];
        for (long o = 0; o < outC; o++)
        {
            for (int c = 0; c < 3; c++)
            {
                int bgr = 2 - c;
                // x_bgr(file) − μ = 255·std·x_norm + (255·mean − μ): the first part is the new weight, the second a constant.
                double delta = 255.0 * mean[c] - fileMeanBgr[bgr];
                for (long i = 0; i < k; i++)
                {
                    float v = w[(o * 3 + bgr) * k + i];
                    converted[(o * 3 + c) * k + i] = (float)(v * 255.0 * std[c]);
                    offset[o] += v * delta;
                }
            }
        }
        result["conv1.weight"] = (shape, converted);
        var (ms, rm) = graph.Tensors["bn1.running_mean"];
        result["bn1.running_mean"] = (ms, rm.Select((m, o) => (float)(m - offset[o])).ToArray());
        return result;
    }

    /// <summary>
    /// Loads the package's ResNet-18 into <paramref name="net"/> (a segmentation net or a trunk whose
    /// trunk keys are at the top level, as every net here registers them). Every file tensor must find
    /// its key with the same shape; the net's other keys (the head) keep their initialisation.
    /// </summary>
    public static PretrainedImport LoadInto(nn.Module net, ImageNetResNet18Files files, IReadOnlyList<float>? fileMeanBgr = null) =>
        LoadInto(net, Read(files.Model), files, fileMeanBgr);

    /// <summary>As <see cref="LoadInto(nn.Module, ImageNetResNet18Files, IReadOnlyList{float}?)"/>, from a graph already read (the file is 64 MB).</summary>
    public static PretrainedImport LoadInto(nn.Module net, Graph graph, ImageNetResNet18Files files, IReadOnlyList<float>? fileMeanBgr = null)
    {
        var meanBgr = fileMeanBgr ?? ReadMeanBgr(files.Preprocess);
        var converted = ForNormalisedRgb(graph, meanBgr);
        var report = Checkpoint.LoadTensors(net, files.Model, converted, requireEveryFileKey: true);
        return new PretrainedImport(files.Model, graph.Sha256, report.Matched.Count, meanBgr);
    }

    public static (long[] Shape, float[] Data) Initializer(string path, IReadOnlyDictionary<string, TensorProto> inits, string name)
    {
        if (!inits.TryGetValue(name, out var t)) throw Bad(path, $"tensor '{name}' is not an initializer");
        try
        {
            return TensorProtos.Floats(t, path);
        }
        catch (InvalidDataException ex)
        {
            throw Bad(path, ex.Message[(path.Length + 2)..]);
        }
    }

    private static PretrainedException Bad(string path, string what) =>
        new($"'{path}' is not the ImageNet ResNet-18 of {ImageNetResNet18Files.PackageId} {ImageNetResNet18Files.PackageVersion}: {what}.");
}

/// <summary>What an import loaded, for the run folder (<c>pretrained.json</c>).</summary>
public sealed record PretrainedImport(string File, string Sha256, int Tensors, IReadOnlyList<float> FileMeanBgr)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Tensors} tensors from {File} (sha256 {Sha256[..12]}…; input mean B,G,R {FileMeanBgr[0]:F2},{FileMeanBgr[1]:F2},{FileMeanBgr[2]:F2})");
}
