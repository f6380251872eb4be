using DANNet.Trainer.Data;
using System.CommandLine;

namespace DANNet.Trainer.Cli;

/// <summary>Options several commands take with one meaning, defined once (a command never reaches into another's).</summary>
internal static class SharedOptions
{
    public static readonly Option<DatasetLayout> DataLayout = new("--layout") { Description = "darkzurich (labelled night val/test) or " +
        "cityscapes.", DefaultValueFactory = _ => DatasetLayout.DarkZurich, HelpName = "darkzurich|cityscapes" };

    public static readonly Option<string> Split = new("--split") { Description = "Split to evaluate or count.", DefaultValueFactory = _ => "val" };

    public static readonly Option<ulong> Seed = new("--seed")
    {
        Description = "Random seed: the same seed, scale and generator version give the same bytes.",
        DefaultValueFactory = _ => 1UL,
    };
}
