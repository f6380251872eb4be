using DANNet.Edge.Contracts;
namespace DANNet.Edge.SharedMemory;

/// <summary>What the header tells readers about the masks: model name, class names and colours.</summary>
/// <param name="Palette">One colour per class id.</param>
public sealed record RingDescription(string Model, IReadOnlyList<string> ClassNames, IReadOnlyList<Rgb> Palette);
