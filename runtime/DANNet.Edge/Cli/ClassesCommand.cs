using System.CommandLine;
using DANNet.Edge.Contracts;

namespace DANNet.Edge.Cli;

/// <summary><c>dannet-edge classes</c>: print the class table masks are encoded with.</summary>
internal static class ClassesCommand
{
    public static Command Create()
    {
        var command = new Command("classes", "Print the 19 classes a mask value stands for: trainId, Cityscapes labelId, name, palette colour, static or not.");
        command.SetAction(_ => Write(Console.Out));
        return command;
    }

    internal static int Write(TextWriter output)
    {
        output.WriteLine("trainId  labelId  colour   static  name");
        foreach (var c in CityscapesClasses.All)
            output.WriteLine($"{c.TrainId,7}  {c.LabelId,7}  {c.Color}  {(c.IsStatic ? "yes" : "no"),6}  {c.Name}");
        output.WriteLine($"{CityscapesClasses.Ignore,7}  {"-",7}  #000000  {"-",6}  (ignored / no prediction)");
        return 0;
    }
}
