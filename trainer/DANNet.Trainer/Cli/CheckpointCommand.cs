using DANNet.Model;
using System.CommandLine;
using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Checkpoints;
using DANNet.Trainer.Models.Discriminators;
using static TorchSharp.torch;

namespace DANNet.Trainer.Cli;

/// <summary><c>dannet-train inspect-checkpoint</c>: does a PyTorch .pth fit one of our nets, key by key?</summary>
internal static class CheckpointCommand
{
    /// <summary>Which of DANNet's nets a checkpoint is for.</summary>
    public enum NetRole { Segmentation, Light, Discriminator }

    public static readonly Option<FileInfo> File = new("--checkpoint", "-c") { Description = "A PyTorch state dict saved with torch.save (.pth).", Required = true };
    public static readonly Option<string> Arch = new("--arch") { Description = "Architecture the checkpoint should fit, e.g. pspnet-r101.", DefaultValueFactory = _ => "pspnet-r101" };
    public static readonly Option<NetRole> Net = new("--net") { Description = "Which net: segmentation, light or " +
        "discriminator.", DefaultValueFactory = _ => NetRole.Segmentation, HelpName = "segmentation|light|discriminator" };

    public static Command Create()
    {
        var command = new Command("inspect-checkpoint", "Compare a PyTorch checkpoint with one of our nets key by key: matching, missing, unexpected " +
            "and mis-shaped keys. Exit 0 when it loads strictly.")
        {
            File, Arch, Net,
        };
        command.SetAction(parse => Run(parse.GetValue(File)!.FullName, ArchitectureSpec.Parse(parse.GetValue(Arch)!), parse.GetValue(Net), Console.Out, Console.Error));
        return command;
    }

    internal static int Run(string path, ArchitectureSpec arch, NetRole role, TextWriter output, TextWriter error) => CommandErrors.Run(error, () =>
    {
        using nn.Module net = role switch
        {
            NetRole.Segmentation => arch.CreateSegmentationNet(),
            NetRole.Light => arch.CreateLightNet(),
            _ => new FcDiscriminator(),
        };
        try
        {
            var report = Checkpoint.Inspect(net, path);
            output.WriteLine($"{role.ToString().ToLowerInvariant()} net {arch}: {report}");
            return report.IsExact ? 0 : 1;
        }
        catch (CheckpointException ex)
        {
            error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    });
}
