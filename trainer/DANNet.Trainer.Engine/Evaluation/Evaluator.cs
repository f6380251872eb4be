using DANNet.Model;
using DANNet.Model.IO;
using DANNet.Model.Scoring;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Data;
using DANNet.Trainer.IO;
using DANNet.Trainer.Models;
using DANNet.Trainer.Torch;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;
using Size = OpenCvSharp.Size;

namespace DANNet.Trainer.Evaluation;

/// <summary>
/// The reference evaluation protocol: resize the image to the evaluation size, relight (x + r),
/// multiply the main-head logits by the class weights (s = 0.16), upsample bilinearly
/// (align_corners) to the label size, argmax; single scale.
/// </summary>
public static class Evaluator
{
    public static EvaluationResult Evaluate(DannetNets nets, string setName, IReadOnlyList<LabelledSample> samples, int evalHeight, int evalWidth,
        float[] testWeights, string? colourDir = null, Action<int, int>? progress = null, CancellationToken cancel = default, InputResize resize = InputResize.Antialiased)
    {
        var confusion = new ConfusionMatrix();
        nets.Eval();
        using var weights = tensor(testWeights, device: nets.Device).view(1, -1, 1, 1);
        for (int i = 0; i < samples.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            using var sample = samples[i].Load();
            using var scope = NewDisposeScope();
            // Counted where the prediction is: only the class-pair counts come back to the host (and the mask when it is written).
            using var prediction = Predict(nets, sample.Image, evalHeight, evalWidth, weights, sample.TrainIds.Rows, sample.TrainIds.Cols, resize, toHost: false);
            using var labels = ImageTensors.StackLabels([sample.TrainIds]).to(nets.Device);
            confusion.AddCounted(labels, prediction);
            if (colourDir is not null)
            {
                using var onHost = prediction.cpu();
                WritePrediction(colourDir, sample.Name, onHost);
            }
            progress?.Invoke(i + 1, samples.Count);
        }
        return new EvaluationResult(setName, samples.Count, confusion.MeanIoU(), confusion.IoU(), confusion);
    }

    /// <summary>
    /// trainIds (1×H×W int64) for a BGR image, at <paramref name="outHeight"/>×<paramref name="outWidth"/>. The image is
    /// resized to the evaluation size as the reference does (PIL's antialiased bilinear) unless <paramref name="resize"/> says otherwise.
    /// </summary>
    public static Tensor Predict(DannetNets nets, Mat bgr, int evalHeight, int evalWidth, Tensor weights, int outHeight, int outWidth,
        InputResize resize = InputResize.Antialiased, bool toHost = true)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var resized = ResizeTo(bgr, evalWidth, evalHeight, resize);
        var x = ImageTensors.Stack([resized]).to(nets.Device);
        var (_, logits) = nets.Forward(x);
        var up = DannetNets.Upsample(logits * weights, outHeight, outWidth);
        var ids = up.argmax(1);
        return (toHost ? ids.cpu() : ids).MoveToOuterDisposeScope();
    }

    /// <summary>An 8-bit BGR image resized with <paramref name="resize"/> by the runtime's resizer (a copy when the size already matches).</summary>
    public static Mat ResizeTo(Mat bgr, int width, int height, InputResize resize)
    {
        if (bgr.Type() != MatType.CV_8UC3) throw new ArgumentException($"Expected an 8-bit BGR image, got {bgr.Type()}.", nameof(bgr));
        var output = new Mat(height, width, MatType.CV_8UC3);
        using var resizer = new InputResizer(output, resize);
        using var input = InputArray.Create(bgr);
        resizer.Resize(bgr, input);
        return output;
    }

    /// <summary>Writes a prediction as a trainId PNG and a colour PNG.</summary>
    public static void WritePrediction(string dir, string name, Tensor prediction)
    {
        using var mask = TrainIdMat(prediction);
        WritePrediction(dir, name, mask);
    }

    /// <summary>A prediction (…×H×W trainIds) as an 8-bit one-channel image.</summary>
    public static Mat TrainIdMat(Tensor prediction)
    {
        int h = (int)prediction.shape[^2], w = (int)prediction.shape[^1];
        var ids = prediction.to(ScalarType.Byte).flatten().data<byte>().ToArray();
        var mask = new Mat(h, w, MatType.CV_8UC1);
        mask.SetArray(ids);
        return mask;
    }

    /// <summary>
    /// Writes trainIds (8-bit, one channel) as <c>&lt;name&gt;_trainIds.png</c> and <c>&lt;name&gt;_colour.png</c> in
    /// <paramref name="dir"/>; a name with '/' writes into sub-folders (created).
    /// </summary>
    public static void WritePrediction(string dir, string name, Mat mask)
    {
        using var colour = MaskColours.Colorize(mask);
        ImageFiles.WritePng(Path.Combine(dir, name + "_trainIds.png"), mask);
        ImageFiles.WritePng(Path.Combine(dir, name + "_colour.png"), colour);
    }
}
