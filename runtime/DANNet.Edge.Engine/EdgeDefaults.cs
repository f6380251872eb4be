namespace DANNet.Edge;

/// <summary>What <c>dannet-edge</c> uses when nothing is configured.</summary>
public static class EdgeDefaults
{
    /// <summary>File name of the embedded default model (models/README.md is its card).</summary>
    public const string ModelFileName = "dannet-synthnight-pspnet-r18i-l16-272x480-int8.onnx";

    /// <summary>The embedded default model, shipped next to the binary under models/.</summary>
    public static string ModelPath => Path.Combine(AppContext.BaseDirectory, "models", ModelFileName);

    /// <summary>File name of the default frame source: SynthNight's night drive (640x360, 15 fps, 20 s, MJPG).</summary>
    public const string VideoFileName = "synthnight-night-drive-640x360.avi";

    /// <summary>The default frame source, shipped next to the binary under assets/; played in a loop at its own frame rate.</summary>
    public static string VideoPath => Path.Combine(AppContext.BaseDirectory, "assets", VideoFileName);
}
