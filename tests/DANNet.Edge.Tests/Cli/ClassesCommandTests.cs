using DANNet.Edge.Cli;

namespace DANNet.Edge.Tests.Cli;

public sealed class ClassesCommandTests
{
    [Fact]
    public void Prints_a_header_every_class_and_the_ignore_value()
    {
        var output = new StringWriter();
        Assert.Equal(0, ClassesCommand.Write(output));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + 19 + 1, lines.Length);
        Assert.Contains("traffic light", lines[7]);
        Assert.Contains("#faaa1e", lines[7]);
        Assert.StartsWith("    255", lines[^1]);
    }
}
