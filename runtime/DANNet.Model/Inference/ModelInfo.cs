using System.Globalization;
using DANNet.Edge.Contracts;

namespace DANNet.Model;

/// <summary>What an exported DANNet model declares about itself: its size, classes and origin.</summary>
public sealed record ModelInfo(
    string Path, int Height, int Width, string Architecture, bool Relighting, IReadOnlyList<string> Classes,
    IReadOnlyList<Rgb> Palette, IReadOnlyList<string> ExtraOutputs, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>
    /// The resize the model was evaluated with (<c>dannet.resize</c>), the default of every command that
    /// feeds it; <see cref="InputResizes.Unstated"/> for a model whose metadata names none.
    /// </summary>
    public InputResize Resize => InputResizes.Parse(Metadata.GetValueOrDefault(ModelMetadataKeys.Resize)) ?? InputResizes.Unstated;

    /// <summary>Whether the metadata names the resize (models exported before <c>dannet.resize</c> existed do not).</summary>
    public bool StatesResize => Metadata.ContainsKey(ModelMetadataKeys.Resize);

    /// <summary>Reads the contract from a model's inputs, outputs and metadata; errors name the file and what is wrong.</summary>
    public static ModelInfo From(string path, IReadOnlyDictionary<string, (Type Type, int[] Shape)> inputs,
        IReadOnlyDictionary<string, (Type Type, int[] Shape)> outputs, IReadOnlyDictionary<string, string> metadata)
    {
        string Fail(string what) => throw new InvalidDataException($"Model '{path}' does not follow the DANNet Edge model contract: {what}. Export it with 'dannet-train export'.");
        if (!inputs.TryGetValue(ModelContract.ImageInput, out var image) || inputs.Count != 1)
            Fail($"expected exactly one input '{ModelContract.ImageInput}', found {string.Join(", ", inputs.Keys)}");
        if (image.Type != typeof(byte) || image.Shape.Length != 4 || image.Shape[0] != 1 || image.Shape[3] != ModelContract.ImageChannels || image.Shape[1] <= 0 || image.Shape[2] <= 0)
            Fail($"input '{ModelContract.ImageInput}' must be uint8 [1,H,W,3], is {image.Type.Name} [{string.Join(",", image.Shape)}]");
        if (image.Shape[1] > ModelContract.MaxSide || image.Shape[2] > ModelContract.MaxSide)
            Fail($"its input is {image.Shape[2]}x{image.Shape[1]}; masks can be at most {ModelContract.MaxSide} pixels per side");
        if (!outputs.TryGetValue(ModelContract.MaskOutput, out var mask))
            Fail($"no output '{ModelContract.MaskOutput}'");
        if (mask.Type != typeof(byte) || mask.Shape.Length != 3 || mask.Shape[0] != 1 || mask.Shape[1] != image.Shape[1] || mask.Shape[2] != image.Shape[2])
            Fail($"output '{ModelContract.MaskOutput}' must be uint8 [1,{image.Shape[1]},{image.Shape[2]}], is {mask.Type.Name} [{string.Join(",", mask.Shape)}]");

        if (metadata.TryGetValue(ModelMetadataKeys.FormatVersion, out var versionText))
        {
            if (!int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out int version))
                Fail($"{ModelMetadataKeys.FormatVersion} '{versionText}' is not a version number");
            if (version > ModelMetadataKeys.CurrentFormatVersion)
                throw new InvalidDataException($"Model '{path}' was exported with metadata format {version}; this dannet-edge reads format " +
                    $"{ModelMetadataKeys.CurrentFormatVersion} and older. Update dannet-edge, or export the model with the matching dannet-train.");
        }
        foreach (var (key, axis, name) in new[] { (ModelMetadataKeys.InputHeight, 1, "height"), (ModelMetadataKeys.InputWidth, 2, "width") })
            if (metadata.TryGetValue(key, out var sizeText) && sizeText != image.Shape[axis].ToString(CultureInfo.InvariantCulture))
                Fail($"its metadata gives input {name} {sizeText} ({key}) but the input tensor has {image.Shape[axis]}");

        if (metadata.TryGetValue(ModelMetadataKeys.Resize, out var resizeText) && InputResizes.Parse(resizeText) is null)
            Fail($"{ModelMetadataKeys.Resize} '{resizeText}' is not one of {InputResizes.Names}");
        var classes = metadata.TryGetValue(ModelMetadataKeys.Classes, out var names) ? names.Split(',') : CityscapesClasses.Names.ToArray();
        var palette = metadata.TryGetValue(ModelMetadataKeys.Palette, out var colours)
            ? colours.Split(',').Select(c => ParseColour(c, path)).ToArray()
            : CityscapesClasses.All.Select(c => c.Color).ToArray();
        if (classes.Length != palette.Length) Fail($"{classes.Length} class names but {palette.Length} palette colours");
        // The names travel in the ring's header, one per line, and consumers look ids up in them: each must be a
        // printable name, and all must fit (class ids are bytes; 255 means no prediction).
        if (classes.Length is < 1 or > 254) Fail($"{classes.Length} classes in {ModelMetadataKeys.Classes}; a mask holds class ids 0..253 (255: none)");
        foreach (var (name, index) in classes.Select((n, i) => (n, i)))
            if (name.Length == 0 || name.Any(char.IsControl) || name.Trim() != name)
                Fail($"class {index} in {ModelMetadataKeys.Classes} is '{name.ReplaceLineEndings("\\n")}': a name is non-empty printable text without line breaks");
        int namesBytes = System.Text.Encoding.UTF8.GetByteCount(string.Join('\n', classes));
        if (namesBytes > ModelContract.MaxClassNamesBytes)
            Fail($"its class names take {namesBytes} bytes; the ring's header holds {ModelContract.MaxClassNamesBytes}");
        if (metadata.TryGetValue(ModelMetadataKeys.Architecture, out var architecture) && architecture.Any(char.IsControl))
            Fail($"{ModelMetadataKeys.Architecture} holds control characters");
        return new ModelInfo(path, image.Shape[1], image.Shape[2],
            metadata.GetValueOrDefault(ModelMetadataKeys.Architecture, "unknown"),
            metadata.GetValueOrDefault(ModelMetadataKeys.Relighting) == "true",
            classes, palette, outputs.Keys.Where(k => k != ModelContract.MaskOutput).ToArray(), metadata);
    }

    private static Rgb ParseColour(string text, string path)
    {
        if (text.Length == 7 && text[0] == '#' && uint.TryParse(text.AsSpan(1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint v))
            return new Rgb((byte)(v >> 16), (byte)(v >> 8), (byte)v);
        throw new InvalidDataException($"Model '{path}': palette colour '{text}' in {ModelMetadataKeys.Palette} is not #rrggbb.");
    }
}
