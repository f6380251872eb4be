using DANNet.Model;
using DANNet.Model.IO;
using System.CommandLine;
using System.Globalization;
using DANNet.Trainer.Diagnostics;
using DANNet.Trainer.IO;
using DANNet.Trainer.Models.Pretrained;
using OpenCvSharp;

namespace DANNet.Trainer.Cli;

/// <summary><c>dannet-train pretrained</c>: where the ImageNet ResNet-18 is, and its import checked against ONNX Runtime on real images.</summary>
internal static class PretrainedCommand
{
    private static readonly Option<string[]> Images = new("--images")
    {
        Description = "Images to compare on: image files, folders (searched recursively for .png/.jpg) or videos (frames spread over the clip).",
        AllowMultipleArgumentsPerToken = true,
    };

    private static readonly Option<int> Count = new("--frames") { Description = "Images taken from each folder or video.", DefaultValueFactory = _ => 4 };

    public static Command Create()
    {
        var command = new Command("pretrained", "Locate the ImageNet-pretrained ResNet-18 (NuGet " +
            $"{ImageNetResNet18Files.PackageId} {ImageNetResNet18Files.PackageVersion}) and, with --images, compare our imported r18i trunk " +
            "with ONNX Runtime running the original file on those images (docs/pretrained.md).")
        {
            Images, Count,
        };
        command.SetAction(parse => CommandErrors.Run(Console.Error, () => Run(parse.GetValue(Images) ?? [], parse.GetValue(Count), Console.Out)));
        return command;
    }

    internal static int Run(IReadOnlyList<string> inputs, int perSource, TextWriter output)
    {
        if (perSource < 1) throw new ArgumentException("--frames must be at least 1.");
        var files = ImageNetResNet18Files.Locate();
        var graph = ImageNetResNet18.Read(files.Model);
        output.WriteLine($"model       {files.Model}");
        output.WriteLine($"sha256      {graph.Sha256}");
        output.WriteLine($"tensors     {graph.Tensors.Count} (stem, BasicBlocks {string.Join(",", ImageNetResNet18.Stages)}, projection shortcuts)");
        var mean = ImageNetResNet18.ReadMeanBgr(files.Preprocess);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"input mean  B {mean[0]:F2}, G {mean[1]:F2}, R {mean[2]:F2} (per channel, from {Path.GetFileName(files.Preprocess)})"));
        if (inputs.Count == 0) return 0;

        using var check = new PretrainedCheck(files);
        double worstExact = 0, worstChannelCos = 1, worstImageCos = 1;
        int n = 0;
        foreach (var (name, image) in ImagesFrom(inputs, perSource))
        {
            using (image)
            {
                var r = check.Compare(image, name);
                output.WriteLine(PretrainedCheck.Describe(r));
                worstExact = Math.Max(worstExact, r.Exact.Max(d => d.Relative));
                worstChannelCos = Math.Min(worstChannelCos, r.ChannelMeanCosine);
                worstImageCos = Math.Min(worstImageCos, r.MeanImageCosine);
                n++;
            }
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{n} images: exact input, largest relative difference {worstExact:E2}; as trained, lowest cosine similarity of the pooled features " +
            $"{worstChannelCos:F6} against the file with the per-channel mean, {worstImageCos:F6} with its mean image"));
        return 0;
    }

    private static IEnumerable<(string Name, Mat Image)> ImagesFrom(IReadOnlyList<string> inputs, int perSource)
    {
        foreach (var input in inputs)
        {
            // Colour images only (label PNGs in the same tree are skipped); a file or frame that does not decode is an error here.
            foreach (var picked in ImageSamples.Pick(input, perSource, "--images",
                         what => throw new InvalidDataException($"--images '{input}': {what} could not be decoded.")))
                yield return picked;
        }
    }
}
