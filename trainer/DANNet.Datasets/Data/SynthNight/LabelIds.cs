namespace DANNet.Trainer.Data.SynthNight;

/// <summary>Cityscapes labelIds that SynthNight draws (see <c>CityscapesClasses</c> for the 19 evaluated ones).</summary>
public static class LabelIds
{
    public const byte Unlabeled = 0;
    public const byte EgoVehicle = 1;
    public const byte Road = 7;
    public const byte Sidewalk = 8;
    public const byte Building = 11;
    public const byte Wall = 12;
    public const byte Fence = 13;
    public const byte Pole = 17;
    public const byte TrafficLight = 19;
    public const byte TrafficSign = 20;
    public const byte Vegetation = 21;
    public const byte Terrain = 22;
    public const byte Sky = 23;
    public const byte Person = 24;
    public const byte Rider = 25;
    public const byte Car = 26;
    public const byte Truck = 27;
    public const byte Bus = 28;
    public const byte Train = 31;
    public const byte Motorcycle = 32;
    public const byte Bicycle = 33;
}
