using System.CommandLine;
using DANNet.Edge.Contracts;
using DANNet.Edge.Tap;

namespace DANNet.Edge.Cli;

/// <summary>Options several commands take with one meaning, defined once (a command never reaches into another's).</summary>
internal static class SharedOptions
{
    public static readonly Option<string> RingPath = new("--path") { Description = "The ring file.", DefaultValueFactory = _ => TapOptions.DefaultPath };

    public static readonly Option<InputResize?> Resize = new("--resize") { Description = "Frame → model input resize (Model:Resize): antialiased " +
        "(PIL's, as evaluation), area or linear; default: the model's own (its dannet.resize; area if it names none).", HelpName = "antialiased|area|linear" };
}
