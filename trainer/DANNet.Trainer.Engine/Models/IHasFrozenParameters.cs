using TorchSharp.Modules;

namespace DANNet.Trainer.Models;

/// <summary>A module some of whose parameters never train (e.g. the frozen BatchNorm of the Caffe ResNet).</summary>
public interface IHasFrozenParameters
{
    IEnumerable<Parameter> FrozenParameters();
}
