using DANNet.Edge.Configuration;

namespace DANNet.Edge.Tests.Configuration;

public sealed class ExecutionProviderTests
{
    [Fact]
    public void Every_provider_has_one_name_that_parses_back_and_unknown_names_are_errors()
    {
        foreach (var provider in Enum.GetValues<ExecutionProvider>())
            Assert.Equal(provider, ExecutionProviderNames.Parse(provider.Name()));
        Assert.Equal(Enum.GetValues<ExecutionProvider>().Length, ExecutionProviderNames.Names.Distinct().Count());
        Assert.Equal(["tensorrt", "cuda", "cpu"], ExecutionProviderNames.Names);
        Assert.False(ExecutionProvider.Cpu.NeedsGpu());
        Assert.True(ExecutionProvider.TensorRt.NeedsGpu());
        var ex = Assert.Throws<ArgumentException>(() => ExecutionProviderNames.Parse("CUDA"));
        Assert.Contains("use tensorrt, cuda or cpu (lower case)", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ((ExecutionProvider)42).Name());
    }
}
