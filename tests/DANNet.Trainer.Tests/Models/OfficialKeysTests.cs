using DANNet.Trainer.Models.Backbones;
using DANNet.Trainer.Models.Discriminators;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Models.Segmentation;
using TorchSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Models;

/// <summary>Every key, shape and dtype of our nets equals the reference state dicts.</summary>
public sealed class OfficialKeysTests
{
    public static TheoryData<string> Nets => new() { "lightnet", "fc_discriminator", "pspnet_resnet101", "deeplabv2_resnet101", "refinenet_resnet101" };

    internal static nn.Module Create(string name) => name switch
    {
        "lightnet" => new LightNet(),
        "fc_discriminator" => new FcDiscriminator(),
        "pspnet_resnet101" => new PspNet(ResNetSpec.PspNet()),
        "deeplabv2_resnet101" => new DeepLabV2(ResNetSpec.DeepLabV2()),
        "refinenet_resnet101" => new RefineNet(ResNetSpec.RefineNet()),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Nets))]
    public void State_dict_keys_shapes_and_dtypes_match_the_reference(string name)
    {
        var expected = ReferenceData.Keys(name);
        using var net = Create(name);
        var actual = net.state_dict(); // the net's own tensors: disposed with the net
        {
            var missing = expected.Select(e => e.Key).Except(actual.Keys).ToList();
            var unexpected = actual.Keys.Except(expected.Select(e => e.Key)).ToList();
            Assert.True(missing.Count == 0 && unexpected.Count == 0,
                $"{name}: missing {missing.Count} ({string.Join(", ", missing.Take(5))}), unexpected {unexpected.Count} ({string.Join(", ", unexpected.Take(5))})");
            foreach (var (key, shape, dtype) in expected)
            {
                var t = actual[key];
                Assert.True(shape.SequenceEqual(t.shape), $"{name}.{key}: shape [{string.Join("x", t.shape)}], reference [{string.Join("x", shape)}]");
                Assert.Equal(dtype, t.dtype switch { ScalarType.Float32 => "float32", ScalarType.Int64 => "int64", var other => other.ToString() });
            }
        }
    }

    [Theory]
    [InlineData("pspnet_resnet101", 8)]
    [InlineData("deeplabv2_resnet101", 8)]
    [InlineData("refinenet_resnet101", 4)]
    public void ResNet101_nets_run_a_forward_at_64x128(string name, int stride)
    {
        using var scope = NewDisposeScope();
        var net = (SegmentationNet)Create(name);
        net.eval();
        Assert.Equal(stride, net.OutputStride);
        using (no_grad())
        {
            var logits = net.call(randn(1, 3, 64, 128));
            // Ceil-mode pooling (PSPNet, DeepLab-v2) rounds odd sizes up, as the reference does.
            Assert.Equal(new long[] { 1, 19 }, logits.shape[..2]);
            Assert.InRange(logits.shape[2], 64 / stride, 64 / stride + 1);
            Assert.InRange(logits.shape[3], 128 / stride, 128 / stride + 1);
            Assert.True(isfinite(logits).all().item<bool>());
        }
        net.Dispose();
    }
}
