using DANNet.Edge.Contracts;

namespace DANNet.Model;

/// <summary>A loaded model: its file, its card (checked against its tensors) and the outputs it has besides the mask.</summary>
public sealed record ModelInfo(string Path, ModelCard Card, IReadOnlyList<string> ExtraOutputs)
{
    /// <summary>Input (and mask) height.</summary>
    public int Height => Card.Height;

    /// <summary>Input (and mask) width.</summary>
    public int Width => Card.Width;

    /// <summary>Images per run: the input's static batch dimension (1 for most models; several cameras share a run of a larger one).</summary>
    public int Batch => Card.Batch;

    /// <summary>The architecture's name.</summary>
    public string Architecture => Card.Architecture;

    /// <summary>Whether the relighting net is in the graph.</summary>
    public bool Relighting => Card.Relighting;

    /// <summary>Class names in class-id order.</summary>
    public IReadOnlyList<string> Classes => Card.Classes;

    /// <summary>Class colours in class-id order.</summary>
    public IReadOnlyList<Rgb> Palette => Card.Palette;

    /// <summary>The resize every command feeds this model with by default (<see cref="ModelCard.Resize"/>).</summary>
    public InputResize Resize => Card.Resize;

    /// <summary>Whether the model names its resize (models exported before <c>dannet.resize</c> existed do not).</summary>
    public bool StatesResize => Card.StatedResize is not null;

    /// <summary>Reads the contract from a model's inputs, outputs and metadata; errors name the file and what is wrong.</summary>
    public static ModelInfo From(string path, IReadOnlyDictionary<string, (Type Type, int[] Shape)> inputs,
        IReadOnlyDictionary<string, (Type Type, int[] Shape)> outputs, IReadOnlyDictionary<string, string> metadata)
    {
        void Fail(string what) => throw ModelCard.Contract(path, what);
        if (!inputs.TryGetValue(ModelContract.ImageInput, out var image) || inputs.Count != 1)
            Fail($"expected exactly one input '{ModelContract.ImageInput}', found {string.Join(", ", inputs.Keys)}");
        if (image.Type != typeof(byte) || image.Shape.Length != 4 || image.Shape[0] is < 1 or > ModelContract.MaxBatch
            || image.Shape[3] != ModelContract.ImageChannels || image.Shape[1] <= 0 || image.Shape[2] <= 0)
            Fail($"input '{ModelContract.ImageInput}' must be uint8 [B,H,W,3] with B 1..{ModelContract.MaxBatch}, is {image.Type.Name} [{string.Join(",", image.Shape)}]");
        if (image.Shape[1] > ModelContract.MaxSide || image.Shape[2] > ModelContract.MaxSide)
            Fail($"its input is {image.Shape[2]}x{image.Shape[1]}; masks can be at most {ModelContract.MaxSide} pixels per side");
        if (!outputs.TryGetValue(ModelContract.MaskOutput, out var mask))
            Fail($"no output '{ModelContract.MaskOutput}'");
        if (mask.Type != typeof(byte) || mask.Shape.Length != 3 || mask.Shape[0] != image.Shape[0] || mask.Shape[1] != image.Shape[1]
            || mask.Shape[2] != image.Shape[2])
            Fail($"output '{ModelContract.MaskOutput}' must be uint8 [{image.Shape[0]},{image.Shape[1]},{image.Shape[2]}], is {mask.Type.Name} " +
                $"[{string.Join(",", mask.Shape)}]");
        var card = ModelCard.FromMetadata(metadata, path, image.Shape[1], image.Shape[2]) with { Batch = image.Shape[0] };
        return new ModelInfo(path, card, outputs.Keys.Where(k => k != ModelContract.MaskOutput).ToArray());
    }
}
