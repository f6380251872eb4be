namespace DANNet.Edge.Contracts;

/// <summary>The names of <see cref="InputResize"/> as the metadata, configuration and command lines write them.</summary>
public static class InputResizes
{
    /// <summary>The resize of a model whose metadata names none (models exported before <c>dannet.resize</c> existed).</summary>
    public const InputResize Unstated = InputResize.Area;

    /// <summary>The lower-case name, e.g. <c>antialiased</c>.</summary>
    public static string Name(InputResize resize) => resize switch
    {
        InputResize.Antialiased => "antialiased",
        InputResize.Linear => "linear",
        InputResize.Area => "area",
        _ => throw new ArgumentOutOfRangeException(nameof(resize), resize, "An input resize without a name."),
    };

    /// <summary>The resize named <paramref name="name"/> (any case), or null.</summary>
    public static InputResize? Parse(string? name) =>
        Enum.GetValues<InputResize>().Cast<InputResize?>().FirstOrDefault(r => string.Equals(Name(r!.Value), name?.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The names, for messages: <c>antialiased|linear|area</c>.</summary>
    public static string Names => string.Join("|", Enum.GetValues<InputResize>().Select(Name));
}
