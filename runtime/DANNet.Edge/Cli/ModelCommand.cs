using DANNet.Model;
using DANNet.Model.IO;
using System.CommandLine;
using System.Globalization;
using DANNet.Edge.Contracts;

namespace DANNet.Edge.Cli;

/// <summary><c>dannet-edge model</c>: what a model declares, and a short CPU run of it.</summary>
internal static class ModelCommand
{
    public static readonly Option<FileInfo?> Model = new("--model", "-m") { Description = "An exported .onnx model (default: the embedded SynthNight model)." };
    public static readonly Option<int> Frames = new("--frames", "-n") { Description = "Frames to run after one warm-up (0: only describe the model).", DefaultValueFactory = _ => 10 };
    public static readonly Option<int> Threads = new("--threads") { Description = "ONNX Runtime intra-op threads (0: its default).", DefaultValueFactory = _ => 0 };
    public static readonly Option<FileInfo?> Image = new("--image") { Description = "Run on this frame instead of the synthetic one: a binary PPM (P6) " +
        "of the model's input size (no OpenCV needed, so it works on a board without an OpenCV build)." };
    public static readonly Option<FileInfo?> MaskOut = new("--mask-out") { Description = "Write the mask of the frame as a binary PGM (class ids), e.g. to " +
        "compare two machines' results byte for byte." };

    public static Command Create()
    {
        var command = new Command("model", "Describe a model (input size, classes, architecture, origin) and time it on the CPU with a synthetic frame, counting managed allocations per frame.")
        {
            Model, Frames, Threads, Image, MaskOut,
        };
        command.SetAction(parse =>
        {
            try
            {
                return Run(parse.GetValue(Model)?.FullName ?? EdgeDefaults.ModelPath, parse.GetValue(Frames), parse.GetValue(Threads), Console.Out,
                    parse.GetValue(Image)?.FullName, parse.GetValue(MaskOut)?.FullName);
            }
            catch (Exception ex) when (CommandErrors.IsFixable(ex))
            {
                // An ONNX Runtime failure at run time (a model whose declared sizes ONNX Runtime's API cannot hold, e.g. a dimension
                // over 2^31) is one line too, not a stack.
                Console.Error.WriteLine($"error: {ex.Message.ReplaceLineEndings(" ")}");
                return 1;
            }
        });
        return command;
    }

    internal static int Run(string path, int frames, int threads, TextWriter output, string? image = null, string? maskOut = null)
    {
        if (frames < 0) throw new ArgumentException("--frames must not be negative.");
        using var session = SegmentationSession.OpenCpu(path, threads);
        var info = session.Info;
        output.WriteLine(info.Path);
        output.WriteLine($"  architecture  {info.Architecture}{(info.Relighting ? " with LightNet relighting" : " (no relighting)")}");
        var card = info.Card;
        if (card.Head is { } head) output.WriteLine($"  head          {head}");
        output.WriteLine($"  input         image uint8 [{info.Batch},{info.Height},{info.Width},3] BGR");
        string resizeOrigin = info.StatesResize ? "the resize it was evaluated with; every command's default" : "the model names none; the default for such models";
        output.WriteLine($"  resize        {InputResizes.Name(info.Resize)} ({resizeOrigin})");
        output.WriteLine($"  output        mask uint8 [{info.Batch},{info.Height},{info.Width}]{(info.ExtraOutputs.Count > 0 ? " + " + string.Join(", ", info.ExtraOutputs) : "")}");
        output.WriteLine($"  classes       {info.Classes.Count}: {string.Join(", ", info.Classes)}");
        output.WriteLine($"  precision     {ModelCard.PrecisionName(card.Precision)}{(card.Calibration is { } calibration ? $" ({calibration})" : "")}");
        if (card.Provenance is { } from)
            foreach (var (key, value) in new[] { ("config_hash", from.ConfigHash), ("exporter_version", from.ExporterVersion), ("source", from.Source) })
                if (value.Length > 0) output.WriteLine($"  {key,-13} {value}");
        if (frames == 0 && maskOut is null) return 0;

        if (image is not null) NetpbmImage.ReadPpmAsBgr(image, info.Width, info.Height, session.Image[..(info.Height * info.Width * 3)]);
        else FillTestFrame(session.Image[..(info.Height * info.Width * 3)], info.Height, info.Width);
        session.Run();   // warm-up: first-run allocations and kernel selection
        if (maskOut is not null)
        {
            NetpbmImage.WritePgm(maskOut, session.MaskOf(0), info.Width, info.Height);
            output.WriteLine($"  mask          {maskOut} ({info.Width}x{info.Height} class ids, PGM)");
        }
        if (frames == 0) return 0;
        var times = new double[frames];
        long before = GC.GetAllocatedBytesForCurrentThread();
        session.Time(times);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Array.Sort(times);
        var counts = new int[256];
        foreach (var v in session.MaskOf(0)) counts[v]++;
        var classes = Enumerable.Range(0, info.Classes.Count).Where(c => counts[c] > 0).OrderByDescending(c => counts[c]).Take(5)
            .Select(c => $"{info.Classes[c]} {100.0 * counts[c] / session.MaskOf(0).Length:F1} %");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  cpu latency   mean {times.Average():F1} ms, p50 {times[times.Length / 2]:F1} ms, max {times[^1]:F1} ms over {frames} frames " +
                $"({threads switch { 0 => "default", var t => t.ToString(CultureInfo.InvariantCulture) }} threads)"));
        output.WriteLine($"  allocations   {allocated} managed bytes over the {frames} timed frames");
        output.WriteLine($"  {(image is null ? "test frame" : "frame"),-13} {string.Join(", ", classes)}");
        return 0;
    }

    /// <summary>A synthetic night street: dark sky, dim road, a few lights.</summary>
    private static void FillTestFrame(Span<byte> bgr, int height, int width)
    {
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 3;
                int v = y < height / 2 ? 10 + 20 * y / height : 25 + 60 * (y - height / 2) / height;
                bool light = (x % (width / 5)) < 4 && y > height / 4 && y < height / 3;
                bgr[i] = (byte)(light ? 200 : v);
                bgr[i + 1] = (byte)(light ? 230 : v);
                bgr[i + 2] = (byte)(light ? 255 : v + 5);
            }
    }
}
