namespace DANNet.Edge.Contracts;

/// <summary>How a frame is resized to the model's input.</summary>
public enum InputResize
{
    /// <summary>PIL's antialiased bilinear (<see cref="AntialiasedResize"/>): the reference evaluation's resize.</summary>
    Antialiased,

    /// <summary>OpenCV's bilinear (<c>INTER_LINEAR</c>, 2x2 taps): cheapest, aliases when shrinking by more than 2.</summary>
    Linear,

    /// <summary>OpenCV's pixel-area averaging (<c>INTER_AREA</c>): a box filter when shrinking, antialiased at a fraction of the cost.</summary>
    Area,
}
