using System.Globalization;
using DANNet.Edge.Contracts;
using Onnx;

namespace DANNet.Model;

/// <summary>Numeric precision of an exported graph.</summary>
public enum ModelPrecision
{
    /// <summary>float32 throughout (what <c>dannet-train export</c> writes).</summary>
    Float32,

    /// <summary>Explicitly quantised by <c>dannet-calibrate</c>: QuantizeLinear/DequantizeLinear pairs, int8.</summary>
    Int8Qdq,
}

/// <summary>Where an exported model's weights came from.</summary>
/// <param name="Source">The checkpoint or weight files it was exported from.</param>
/// <param name="ConfigHash">Hash of the training configuration (empty for imported weights).</param>
/// <param name="ExporterVersion">The exporter's version with its git commit.</param>
public sealed record ModelProvenance(string Source, string ConfigHash, string ExporterVersion);

/// <summary>
/// What an exported model says about itself, typed: the one reader and writer of the ONNX
/// <c>metadata_props</c> (<see cref="ModelMetadataKeys"/>). The exporter builds a card and writes it
/// (<see cref="ToMetadata"/>), dannet-calibrate reads the float model's card and writes it back with its
/// precision and calibration, the runtime reads it (<see cref="FromMetadata"/>) to size, label and describe
/// its output. Optional facts are null when a model does not state them; keys this version does not know
/// are kept as they are (<see cref="Other"/>).
/// </summary>
public sealed record ModelCard
{
    /// <summary>The metadata format; null for a model without DANNet metadata (a plain ONNX model).</summary>
    public int? FormatVersion { get; init; }

    /// <summary>Architecture name, e.g. <c>pspnet-r18-w0.5-l16</c> (<c>unknown</c> when not stated).</summary>
    public string Architecture { get; init; } = Unknown;

    /// <summary>What the segmentation head computes, one line.</summary>
    public string? Head { get; init; }

    /// <summary>Input (and mask) height in pixels; 0 when neither the metadata nor the caller gave it.</summary>
    public int Height { get; init; }

    /// <summary>Input (and mask) width in pixels; 0 when neither the metadata nor the caller gave it.</summary>
    public int Width { get; init; }

    /// <summary>Images per run (the input's static batch dimension; the tensor states it, the card writes it into <c>dannet.input</c>).</summary>
    public int Batch { get; init; } = 1;

    /// <summary>Class names in class-id order (Cityscapes' 19 when not stated).</summary>
    public IReadOnlyList<string> Classes { get; init; } = CityscapesClasses.Names;

    /// <summary>Class colours in class-id order (the Cityscapes palette when not stated).</summary>
    public IReadOnlyList<Rgb> Palette { get; init; } = CityscapesClasses.Palette;

    /// <summary>Whether the relighting net is in the graph.</summary>
    public bool Relighting { get; init; }

    /// <summary>Class pixel frequencies of the training labels (the re-weighting's input).</summary>
    public IReadOnlyList<double>? ClassFrequencies { get; init; }

    /// <summary>Probability re-weighting strength s used in the graph.</summary>
    public double? ReweightStrength { get; init; }

    /// <summary>The resize the model was evaluated with, as stated (null: it names none).</summary>
    public InputResize? StatedResize { get; init; }

    /// <summary>The resize every command feeds this model with by default: the stated one, else <see cref="InputResizes.Unstated"/>.</summary>
    public InputResize Resize => StatedResize ?? InputResizes.Unstated;

    /// <summary>Numeric precision of the graph.</summary>
    public ModelPrecision Precision { get; init; }

    /// <summary>How an int8 model was calibrated, one line (method, frames, data, resize, tool version).</summary>
    public string? Calibration { get; init; }

    /// <summary>Where the weights came from.</summary>
    public ModelProvenance? Provenance { get; init; }

    /// <summary>Metadata entries this version does not know, in their original order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Other { get; init; } = [];

    /// <summary>The architecture of a model that does not name one.</summary>
    public const string Unknown = "unknown";

    /// <summary>The name of a precision as the metadata and the commands write it: <c>float32</c> or <c>int8-qdq</c>.</summary>
    public static string PrecisionName(ModelPrecision precision) => precision == ModelPrecision.Int8Qdq ? ModelMetadataKeys.PrecisionInt8Qdq : "float32";

    /// <summary>
    /// The metadata entries of this card, in a fixed order. A card with a <see cref="FormatVersion"/> writes the whole
    /// DANNet block; one without (a plain model) writes only what was added to it (precision, calibration) and <see cref="Other"/>.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> ToMetadata()
    {
        var inv = CultureInfo.InvariantCulture;
        var entries = new List<KeyValuePair<string, string>>();
        void Add(string key, string? value)
        {
            if (value is not null) entries.Add(new(key, value));
        }
        if (FormatVersion is { } version)
        {
            Add(ModelMetadataKeys.FormatVersion, version.ToString(inv));
            Add(ModelMetadataKeys.Architecture, Architecture);
            Add(ModelMetadataKeys.Head, Head);
            Add(ModelMetadataKeys.Resize, StatedResize is { } r ? InputResizes.Name(r) : null);
            Add(ModelMetadataKeys.Input, $"{ModelContract.ImageInput} uint8 [{Batch},{Height},{Width},3] BGR 0..255 NHWC");
            Add(ModelMetadataKeys.InputHeight, Height.ToString(inv));
            Add(ModelMetadataKeys.InputWidth, Width.ToString(inv));
            Add(ModelMetadataKeys.Classes, string.Join(',', Classes));
            Add(ModelMetadataKeys.Palette, string.Join(',', Palette.Select(c => c.ToString())));
            Add(ModelMetadataKeys.Relighting, Relighting ? "true" : "false");
            Add(ModelMetadataKeys.ReweightStrength, ReweightStrength?.ToString("R", inv));
            Add(ModelMetadataKeys.ClassFrequencies, ClassFrequencies is null ? null : string.Join(',', ClassFrequencies.Select(f => f.ToString("R", inv))));
            Add(ModelMetadataKeys.ConfigHash, Provenance?.ConfigHash);
            Add(ModelMetadataKeys.Source, Provenance?.Source);
            Add(ModelMetadataKeys.ExporterVersion, Provenance?.ExporterVersion);
        }
        if (Precision != ModelPrecision.Float32) Add(ModelMetadataKeys.Precision, PrecisionName(Precision));
        Add(ModelMetadataKeys.Calibration, Calibration);
        entries.AddRange(Other);
        return entries;
    }

    /// <summary>Replaces <paramref name="model"/>'s metadata with this card's.</summary>
    public void WriteTo(ModelProto model)
    {
        model.MetadataProps.Clear();
        foreach (var (key, value) in ToMetadata()) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
    }

    /// <summary>The card of a parsed model (<see cref="FromMetadata"/> over its entries).</summary>
    public static ModelCard Of(ModelProto model, string path) =>
        FromMetadata(model.MetadataProps.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)), path);

    /// <summary>
    /// Reads and checks a model's metadata. <paramref name="height"/> and <paramref name="width"/> are the input tensor's size when
    /// known (a loaded session): a stated size must agree with them. Every problem is an <see cref="InvalidDataException"/> naming
    /// the file, the key and what is wrong.
    /// </summary>
    public static ModelCard FromMetadata(IEnumerable<KeyValuePair<string, string>> metadata, string path, int? height = null, int? width = null)
    {
        var known = new Dictionary<string, string>(StringComparer.Ordinal);
        var other = new List<KeyValuePair<string, string>>();
        foreach (var (key, value) in metadata)
        {
            if (KnownKeys.Contains(key)) known[key] = value;
            else other.Add(new(key, value));
        }
        string? Get(string key) => known.GetValueOrDefault(key);

        int? version = null;
        if (Get(ModelMetadataKeys.FormatVersion) is { } versionText)
        {
            if (!int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out int v))
                throw Contract(path, $"{ModelMetadataKeys.FormatVersion} '{versionText}' is not a version number");
            if (v > ModelMetadataKeys.CurrentFormatVersion)
                throw new InvalidDataException($"Model '{path}' was exported with metadata format {v}; this version reads format " +
                    $"{ModelMetadataKeys.CurrentFormatVersion} and older. Update DANNet Edge, or export the model with the matching dannet-train.");
            version = v;
        }
        int Size(string key, string name, int? tensor)
        {
            if (Get(key) is not { } text) return tensor ?? 0;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int stated) || stated < 1 || stated > ModelContract.MaxSide)
                throw Contract(path, $"{key} '{text}' is not an input {name} (1..{ModelContract.MaxSide})");
            if (tensor is { } t && t != stated) throw Contract(path, $"its metadata gives input {name} {text} ({key}) but the input tensor has {t}");
            return stated;
        }
        int h = Size(ModelMetadataKeys.InputHeight, "height", height), w = Size(ModelMetadataKeys.InputWidth, "width", width);

        InputResize? resize = null;
        if (Get(ModelMetadataKeys.Resize) is { } resizeText)
            resize = InputResizes.Parse(resizeText) ?? throw Contract(path, $"{ModelMetadataKeys.Resize} '{resizeText}' is not one of {InputResizes.Names}");

        var classes = Get(ModelMetadataKeys.Classes)?.Split(',') ?? [.. CityscapesClasses.Names];
        var palette = Get(ModelMetadataKeys.Palette)?.Split(',').Select(c => ParseColour(c, path)).ToArray() ?? [.. CityscapesClasses.Palette];
        if (classes.Length != palette.Length) throw Contract(path, $"{classes.Length} class names but {palette.Length} palette colours");
        // The names travel in the ring's header, one per line, and consumers look ids up in them: each must be a
        // printable name, and all must fit (class ids are bytes; 255 means no prediction).
        if (classes.Length is < 1 or > 254) throw Contract(path, $"{classes.Length} classes in {ModelMetadataKeys.Classes}; a mask holds class ids 0..253 (255: none)");
        foreach (var (name, index) in classes.Select((n, i) => (n, i)))
            if (name.Length == 0 || name.Any(char.IsControl) || name.Trim() != name)
                throw Contract(path, $"class {index} in {ModelMetadataKeys.Classes} is '{name.ReplaceLineEndings("\\n")}': a name is non-empty printable text " +
                    "without line breaks");
        int namesBytes = System.Text.Encoding.UTF8.GetByteCount(string.Join('\n', classes));
        if (namesBytes > ModelContract.MaxClassNamesBytes)
            throw Contract(path, $"its class names take {namesBytes} bytes; the ring's header holds {ModelContract.MaxClassNamesBytes}");

        string architecture = Get(ModelMetadataKeys.Architecture) ?? Unknown;
        if (architecture.Any(char.IsControl)) throw Contract(path, $"{ModelMetadataKeys.Architecture} holds control characters");
        var precision = Get(ModelMetadataKeys.Precision) switch
        {
            null or "float32" => ModelPrecision.Float32,
            ModelMetadataKeys.PrecisionInt8Qdq => ModelPrecision.Int8Qdq,
            var p => throw Contract(path, $"{ModelMetadataKeys.Precision} '{p}' is neither float32 nor {ModelMetadataKeys.PrecisionInt8Qdq}"),
        };
        bool relighting = Get(ModelMetadataKeys.Relighting) switch
        {
            null or "false" => false,
            "true" => true,
            var r => throw Contract(path, $"{ModelMetadataKeys.Relighting} '{r}' is neither true nor false"),
        };
        return new ModelCard
        {
            FormatVersion = version, Architecture = architecture, Head = Get(ModelMetadataKeys.Head), Height = h, Width = w, Classes = classes,
            Palette = palette, Relighting = relighting, StatedResize = resize, Precision = precision, Calibration = Get(ModelMetadataKeys.Calibration),
            ReweightStrength = Get(ModelMetadataKeys.ReweightStrength) is { } s ? Number(s, ModelMetadataKeys.ReweightStrength, path) : null,
            ClassFrequencies = Get(ModelMetadataKeys.ClassFrequencies)?.Split(',').Select(f => Number(f, ModelMetadataKeys.ClassFrequencies, path)).ToArray(),
            Provenance = Get(ModelMetadataKeys.Source) is null && Get(ModelMetadataKeys.ConfigHash) is null && Get(ModelMetadataKeys.ExporterVersion) is null
                ? null
                : new ModelProvenance(Get(ModelMetadataKeys.Source) ?? "", Get(ModelMetadataKeys.ConfigHash) ?? "", Get(ModelMetadataKeys.ExporterVersion) ?? ""),
            Other = other,
        };
    }

    private static readonly HashSet<string> KnownKeys = new(StringComparer.Ordinal)
    {
        ModelMetadataKeys.FormatVersion, ModelMetadataKeys.Architecture, ModelMetadataKeys.Head, ModelMetadataKeys.Resize, ModelMetadataKeys.Input,
        ModelMetadataKeys.InputHeight, ModelMetadataKeys.InputWidth, ModelMetadataKeys.Classes, ModelMetadataKeys.Palette, ModelMetadataKeys.Relighting,
        ModelMetadataKeys.ReweightStrength, ModelMetadataKeys.ClassFrequencies, ModelMetadataKeys.ConfigHash, ModelMetadataKeys.Source,
        ModelMetadataKeys.ExporterVersion, ModelMetadataKeys.Precision, ModelMetadataKeys.Calibration,
    };

    private static double Number(string text, string key, string path) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) && v >= 0
            ? v
            : throw Contract(path, $"'{text}' in {key} is not a finite non-negative number");

    private static Rgb ParseColour(string text, string path) =>
        text.Length == 7 && text[0] == '#' && uint.TryParse(text.AsSpan(1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint v)
            ? new Rgb((byte)(v >> 16), (byte)(v >> 8), (byte)v)
            : throw new InvalidDataException($"Model '{path}': palette colour '{text}' in {ModelMetadataKeys.Palette} is not #rrggbb.");

    /// <summary>The one-line error of a model that breaks the contract.</summary>
    internal static InvalidDataException Contract(string path, string what) =>
        new($"Model '{path}' does not follow the DANNet Edge model contract: {what}. Export it with 'dannet-train export'.");
}
