using System.CommandLine;
using DANNet.Edge.Contracts;
using DANNet.Edge.Tap;

namespace DANNet.Edge.Cli;

/// <summary>Options several commands take with one meaning, defined once (a command never reaches into another's).</summary>
internal static class SharedOptions
{
    public static readonly Option<string> RingPath = new("--path") { Description = "The ring file.", DefaultValueFactory = _ => TapOptions.DefaultPath };

    public static readonly Option<string> Providers = new("--providers") { Description = "Execution providers in order, comma-separated; the first " +
        "that loads runs the model.", DefaultValueFactory = _ => "tensorrt,cuda,cpu", HelpName = "tensorrt,cuda,cpu" };

    public static readonly Option<int> Threads = new("--threads") { Description = "ONNX Runtime's CPU intra-op threads (0: its default).", DefaultValueFactory = _ => 0 };

    /// <summary>The providers option's value as a list.</summary>
    public static string[] ProviderList(ParseResult parse) =>
        parse.GetValue(Providers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static readonly Option<InputResize?> Resize = new("--resize") { Description = "Frame → model input resize (Model:Resize): antialiased " +
        "(PIL's, as evaluation), area or linear; default: the model's own (its dannet.resize; area if it names none).", HelpName = "antialiased|area|linear" };
}
