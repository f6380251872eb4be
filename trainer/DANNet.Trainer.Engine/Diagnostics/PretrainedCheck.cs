using System.Globalization;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Models.Backbones;
using DANNet.Trainer.Models.Pretrained;
using DANNet.Trainer.Torch;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Google.Protobuf;
using Onnx;
using OpenCvSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Diagnostics;

/// <summary>How far one feature map of our trunk is from ONNX Runtime's on the original file.</summary>
public sealed record FeatureDifference(string Name, double MaxAbsDifference, double MaxAbsReference)
{
    /// <summary>Largest difference relative to the largest reference value.</summary>
    public double Relative => MaxAbsDifference / Math.Max(MaxAbsReference, 1e-30);
}

/// <summary>
/// The comparison of one image. <see cref="Exact"/>: our trunk with the file's input mean taken as
/// 255·ImageNet mean, against the file fed exactly that input — the same function, so only float
/// rounding separates them (stages layer1..4, then the pooled 512 features). The import as training
/// uses it (the package's per-channel mean folded into bn1) against the file fed the image minus that
/// per-channel mean (<see cref="ChannelMean"/>: only the 3-pixel zero-padded border of conv1 differs),
/// and against the file behind its own preprocessing graph, a 224x224 mean image (<see cref="MeanImage"/>:
/// what the input convention costs in all).
/// </summary>
public sealed record PretrainedImageCheck(string Image, IReadOnlyList<FeatureDifference> Exact, double ExactCosine,
    FeatureDifference ChannelMean, double ChannelMeanCosine, FeatureDifference MeanImage, double MeanImageCosine);

/// <summary>Our imported <c>r18i</c> trunk against ONNX Runtime running the package's files, on real images at 224x224.</summary>
public sealed class PretrainedCheck : IDisposable
{
    public const int Size = 224;
    private readonly ResNetTrunk exactTrunk;
    private readonly ResNetTrunk trainedTrunk;
    private readonly InferenceSession file;
    private readonly InferenceSession preprocess;
    private readonly ImageNetResNet18.Graph graph;
    private readonly float[] imageNetMeanBgr;

    public PretrainedCheck(ImageNetResNet18Files files, int threads = 2)
    {
        Files = files;
        graph = ImageNetResNet18.Read(files.Model);
        var mean = ModelContract.MeanRgb;
        imageNetMeanBgr = [255f * mean[2], 255f * mean[1], 255f * mean[0]];
        // The stride-32 layout (no dilation), as the file was trained: stage outputs compare one to one.
        var spec = ResNetSpec.RefineNet(ResNetDepth.ResNet18I).WithImageNetStem();
        exactTrunk = new ResNetTrunk(spec);
        trainedTrunk = new ResNetTrunk(spec);
        ImageNetResNet18.LoadInto(exactTrunk, graph, files, imageNetMeanBgr);
        Import = ImageNetResNet18.LoadInto(trainedTrunk, graph, files);
        exactTrunk.eval();
        trainedTrunk.eval();

        // The file with its stage outputs added as graph outputs, so ONNX Runtime returns them too.
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(files.Model));
        foreach (var name in graph.StageOutputs)
            model.Graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        file = new InferenceSession(model.ToByteArray(), options);
        preprocess = new InferenceSession(files.Preprocess, options);
    }

    public ImageNetResNet18Files Files { get; }

    /// <summary>The import as training uses it.</summary>
    public PretrainedImport Import { get; }

    public PretrainedImageCheck Compare(Mat bgrImage, string name)
    {
        using var resized = new Mat();
        Cv2.Resize(bgrImage, resized, new OpenCvSharp.Size(Size, Size), interpolation: InterpolationFlags.Area);
        const int plane = Size * Size;
        var normalised = new float[3 * plane];
        ImageTensors.NormaliseInto(resized, normalised);
        var rgb255 = new float[3 * plane];
        var bgrMinusMean = new float[3 * plane];
        var bgrMinusFileMean = new float[3 * plane];
        var fileMean = Import.FileMeanBgr;
        unsafe
        {
            byte* p = (byte*)resized.DataPointer;
            for (int i = 0; i < plane; i++, p += 3)
                for (int c = 0; c < 3; c++)
                {
                    rgb255[c * plane + i] = p[2 - c];
                    bgrMinusMean[c * plane + i] = p[c] - imageNetMeanBgr[c];
                    bgrMinusFileMean[c * plane + i] = p[c] - fileMean[c];
                }
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = tensor(normalised, [1, 3, Size, Size]);
        var ours = exactTrunk.call(x);
        var exactFile = RunFile(bgrMinusMean);
        var stages = new[] { ours.L1, ours.L2, ours.L3, ours.L4 };
        var exact = new List<FeatureDifference>();
        for (int s = 0; s < 4; s++) exact.Add(Difference($"layer{s + 1}", stages[s], exactFile[graph.StageOutputs[s]]));
        var pooled = Pooled(ours.L4);
        exact.Add(Difference("pooled", pooled, exactFile[graph.Output]));
        double exactCos = Cosine(pooled, exactFile[graph.Output]);

        // As trained: against the per-channel mean, then behind the package's preprocessing (its mean image).
        var trainedPooled = Pooled(trainedTrunk.call(x).L4);
        var channelMean = RunFile(bgrMinusFileMean)[graph.Output];
        var pre = preprocess.InputMetadata.Keys.Single();
        using var preOut = preprocess.Run([NamedOnnxValue.CreateFromTensor(pre, new DenseTensor(rgb255, [1, 3, Size, Size]))]);
        var meanImage = RunFile(preOut.First().AsTensor<float>().ToArray())[graph.Output];
        return new PretrainedImageCheck(name, exact, exactCos,
            Difference("pooled", trainedPooled, channelMean), Cosine(trainedPooled, channelMean),
            Difference("pooled", trainedPooled, meanImage), Cosine(trainedPooled, meanImage));
    }

    private static Tensor Pooled(Tensor l4) => l4.mean([2, 3]).flatten();

    private Dictionary<string, float[]> RunFile(float[] input)
    {
        using var results = file.Run([NamedOnnxValue.CreateFromTensor(graph.Input, new DenseTensor(input, [1, 3, Size, Size]))]);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray(), StringComparer.Ordinal);
    }

    private static FeatureDifference Difference(string name, Tensor ours, float[] reference)
    {
        var o = ours.contiguous().data<float>().ToArray();
        if (o.Length != reference.Length) throw new InvalidOperationException($"{name}: our trunk gives {o.Length} values, the file {reference.Length}.");
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < o.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(o[i] - reference[i]));
            maxRef = Math.Max(maxRef, Math.Abs(reference[i]));
        }
        return new FeatureDifference(name, maxDiff, maxRef);
    }

    private static double Cosine(Tensor ours, float[] reference)
    {
        var o = ours.contiguous().data<float>().ToArray();
        double dot = 0, a = 0, b = 0;
        for (int i = 0; i < o.Length; i++)
        {
            dot += (double)o[i] * reference[i];
            a += (double)o[i] * o[i];
            b += (double)reference[i] * reference[i];
        }
        return dot / Math.Sqrt(a * b);
    }

    public static string Describe(PretrainedImageCheck c) => string.Create(CultureInfo.InvariantCulture,
        $"{c.Image}: exact {string.Join(" ", c.Exact.Select(d => $"{d.Name} {d.Relative:E1}"))} cos {c.ExactCosine:F7}; " +
        $"as trained: vs channel mean {c.ChannelMean.Relative:E1} cos {c.ChannelMeanCosine:F6}, vs mean image {c.MeanImage.Relative:E1} cos {c.MeanImageCosine:F6}");

    public void Dispose()
    {
        exactTrunk.Dispose();
        trainedTrunk.Dispose();
        file.Dispose();
        preprocess.Dispose();
    }
}
