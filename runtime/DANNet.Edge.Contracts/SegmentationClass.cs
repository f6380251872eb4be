namespace DANNet.Edge.Contracts;

/// <summary>One of the 19 Cityscapes evaluation classes.</summary>
/// <param name="TrainId">Index 0..18: the channel of the network output and the value in a trainId mask.</param>
/// <param name="LabelId">The Cityscapes labelId stored in <c>*_labelIds.png</c> files.</param>
/// <param name="Name">Cityscapes name, lower case, as in the official label table.</param>
/// <param name="Color">Palette colour used for colour masks.</param>
/// <param name="IsStatic">True for the 11 static classes (road .. sky) the static loss and the pseudo labels use.</param>
public sealed record SegmentationClass(byte TrainId, byte LabelId, string Name, Rgb Color, bool IsStatic);
