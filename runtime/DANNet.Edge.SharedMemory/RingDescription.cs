namespace DANNet.Edge.SharedMemory;

/// <summary>What the header tells readers about the masks: model name, class names and colours.</summary>
/// <param name="PaletteRgb">One (R, G, B) per class id.</param>
public sealed record RingDescription(string Model, IReadOnlyList<string> ClassNames, IReadOnlyList<(byte R, byte G, byte B)> PaletteRgb);
