using System.Runtime.InteropServices;
using DANNet.Model;
using DANNet.Trainer.Torch;

namespace DANNet.Trainer.Tests.Training;

/// <summary>CUDA failures as one line: the messages are libtorch's own wording (c10/cuda/CUDACachingAllocator.cpp, CUDA and cuDNN checks).</summary>
public sealed class TorchErrorsTests
{
    private const string Backtrace = "\nException raised from malloc at /pytorch/c10/cuda/CUDACachingAllocator.cpp:1431 (most recent call first):\nframe #0: ...";

    [Fact]
    public void Out_of_memory_names_the_device_the_request_what_is_free_and_the_fix()
    {
        var ex = new ExternalException("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 7.79 GiB of which 1.23 GiB is free. " +
            "Including non-PyTorch memory, this process has 6.50 GiB memory in use." + Backtrace);
        string line = TorchErrors.Describe(ex, "cuda:0")!;
        Assert.StartsWith("out of GPU memory on cuda:0 (the step asked for 2.00 GiB with 1.23 GiB free of 7.79 GiB): train on smaller crops", line);
        Assert.Contains("optim.batchSize=1", line);
        Assert.DoesNotContain("\n", line);
    }

    [Fact]
    public void A_gpu_without_kernels_in_this_libtorch_names_the_supported_compute_capabilities()
    {
        var ex = new ExternalException("CUDA error: no kernel image is available for execution on the device\nCUDA kernel errors might be asynchronously reported" + Backtrace);
        string line = TorchErrors.Describe(ex, "cuda:1")!;
        Assert.StartsWith("cuda:1: this GPU's compute capability has no kernels in this libtorch", line);
        Assert.Contains($"compute capability {TorchErrors.MinimumComputeCapability} and newer", line);
    }

    [Fact]
    public void Cudnn_and_other_cuda_errors_are_one_line_and_anything_else_keeps_its_stack()
    {
        Assert.StartsWith("cuDNN failed on cuda:0 (CUDNN_STATUS_EXECUTION_FAILED): cuDNN error: CUDNN_STATUS_EXECUTION_FAILED —",
            TorchErrors.Describe(new ExternalException("cuDNN error: CUDNN_STATUS_EXECUTION_FAILED" + Backtrace), "cuda:0"));
        Assert.StartsWith("CUDA failed on cuda: CUDA error: an illegal memory access was encountered —",
            TorchErrors.Describe(new ExternalException("CUDA error: an illegal memory access was encountered" + Backtrace), "cuda"));
        Assert.Null(TorchErrors.Describe(new ExternalException("The size of tensor a (3) must match the size of tensor b (4)" + Backtrace), "cpu"));
        Assert.Null(TorchErrors.Describe(new InvalidOperationException("CUDA out of memory"), "cuda"));
    }

    [Fact]
    public void The_command_maps_a_described_error_to_one_line_and_exit_1()
    {
        var error = new StringWriter();
        int code = CommandErrors.Run(error, () => throw new ExternalException("CUDA out of memory. Tried to allocate 20.00 MiB." + Backtrace),
            ex => TorchErrors.Describe(ex, "cuda:0"));
        Assert.Equal(1, code);
        Assert.Equal("error: out of GPU memory on cuda:0 (the step asked for 20.00 MiB): train on smaller crops", error.ToString().Split(" (--set")[0]);
        Assert.Single(error.ToString().TrimEnd().Split('\n'));
        // Not described and not fixable: a defect, thrown on with its stack.
        Assert.Throws<ExternalException>(() => CommandErrors.Run(error, () => throw new ExternalException("shape mismatch"), ex => TorchErrors.Describe(ex, "cpu")));
    }
}
