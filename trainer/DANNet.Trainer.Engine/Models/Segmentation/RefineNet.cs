using DANNet.Model.Onnx;
using DANNet.Trainer.Torch;
using TorchSharp;
using DANNet.Trainer.Onnx;
using DANNet.Trainer.Models.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models.Segmentation;

/// <summary>
/// Multi-path RefineNet: the four ResNet stages are refined from the deepest up with residual conv
/// units (RCU), multi-resolution fusion (upsample + sum) and chained residual pooling (CRP), down to
/// output stride 4. Field names are the reference keys. Dropout 0.5 on layer3, layer4 and the last
/// fused map is training-only.
/// </summary>
public sealed class RefineNet : SegmentationNet
{
    private readonly Conv2d p_ims1d2_outl1_dimred;
    private readonly Sequential adapt_stage1_b;
    private readonly Sequential mflow_conv_g1_pool;
    private readonly Sequential mflow_conv_g1_b;
    private readonly Conv2d mflow_conv_g1_b3_joint_varout_dimred;
    private readonly Conv2d p_ims1d2_outl2_dimred;
    private readonly Sequential adapt_stage2_b;
    private readonly Conv2d adapt_stage2_b2_joint_varout_dimred;
    private readonly Sequential mflow_conv_g2_pool;
    private readonly Sequential mflow_conv_g2_b;
    private readonly Conv2d mflow_conv_g2_b3_joint_varout_dimred;
    private readonly Conv2d p_ims1d2_outl3_dimred;
    private readonly Sequential adapt_stage3_b;
    private readonly Conv2d adapt_stage3_b2_joint_varout_dimred;
    private readonly Sequential mflow_conv_g3_pool;
    private readonly Sequential mflow_conv_g3_b;
    private readonly Conv2d mflow_conv_g3_b3_joint_varout_dimred;
    private readonly Conv2d p_ims1d2_outl4_dimred;
    private readonly Sequential adapt_stage4_b;
    private readonly Conv2d adapt_stage4_b2_joint_varout_dimred;
    private readonly Sequential mflow_conv_g4_pool;
    private readonly Sequential mflow_conv_g4_b;
    private readonly Conv2d clf_conv;

    public RefineNet(ResNetSpec spec, int numClasses = 19) : base(nameof(RefineNet), new ResNetTrunk(spec), numClasses)
    {
        // Decoder widths follow the trunk: 2048/4 = 512 and 1024/4 = 256 on ResNet-50/101 (the
        // reference), proportionally fewer on lighter trunks.
        var c = spec.LayerChannels;
        long wide = c[3] / 4, narrow = c[2] / 4;
        static Conv2d Conv3(long i, long o) => Conv2d(i, o, 3, padding: 1, bias: false);
        static Sequential Rcu(long i, long o, int blocks) => Sequential(("0", new ResidualConvUnit(i, o, blocks, 2)));
        static Sequential Crp(long i, long o) => Sequential(("0", new ChainedResidualPooling(i, o, 4)));

        p_ims1d2_outl1_dimred = Conv3(c[3], wide);
        adapt_stage1_b = Rcu(wide, wide, 2);
        mflow_conv_g1_pool = Crp(wide, wide);
        mflow_conv_g1_b = Rcu(wide, wide, 3);
        mflow_conv_g1_b3_joint_varout_dimred = Conv3(wide, narrow);

        p_ims1d2_outl2_dimred = Conv3(c[2], narrow);
        adapt_stage2_b = Rcu(narrow, narrow, 2);
        adapt_stage2_b2_joint_varout_dimred = Conv3(narrow, narrow);
        mflow_conv_g2_pool = Crp(narrow, narrow);
        mflow_conv_g2_b = Rcu(narrow, narrow, 3);
        mflow_conv_g2_b3_joint_varout_dimred = Conv3(narrow, narrow);

        p_ims1d2_outl3_dimred = Conv3(c[1], narrow);
        adapt_stage3_b = Rcu(narrow, narrow, 2);
        adapt_stage3_b2_joint_varout_dimred = Conv3(narrow, narrow);
        mflow_conv_g3_pool = Crp(narrow, narrow);
        mflow_conv_g3_b = Rcu(narrow, narrow, 3);
        mflow_conv_g3_b3_joint_varout_dimred = Conv3(narrow, narrow);

        p_ims1d2_outl4_dimred = Conv3(c[0], narrow);
        adapt_stage4_b = Rcu(narrow, narrow, 2);
        adapt_stage4_b2_joint_varout_dimred = Conv3(narrow, narrow);
        mflow_conv_g4_pool = Crp(narrow, narrow);
        mflow_conv_g4_b = Rcu(narrow, narrow, 3);

        clf_conv = Conv2d(narrow, numClasses, 3, padding: 1, bias: true);
        Trunk.RegisterInto(this);
        RegisterComponents();
    }

    public override int OutputStride => 4;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (l1, l2, l3, l4) = Trunk.call(x);
        l4 = functional.dropout(l4, 0.5, training);
        l3 = functional.dropout(l3, 0.5, training);

        var x4 = functional.relu(adapt_stage1_b.call(p_ims1d2_outl1_dimred.call(l4)));
        x4 = mflow_conv_g1_b3_joint_varout_dimred.call(mflow_conv_g1_b.call(mflow_conv_g1_pool.call(x4)));

        var x3 = Fuse(l3, x4, p_ims1d2_outl2_dimred, adapt_stage2_b, adapt_stage2_b2_joint_varout_dimred, mflow_conv_g2_pool, mflow_conv_g2_b);
        x3 = mflow_conv_g2_b3_joint_varout_dimred.call(x3);
        var x2 = Fuse(l2, x3, p_ims1d2_outl3_dimred, adapt_stage3_b, adapt_stage3_b2_joint_varout_dimred, mflow_conv_g3_pool, mflow_conv_g3_b);
        x2 = mflow_conv_g3_b3_joint_varout_dimred.call(x2);
        var x1 = Fuse(l1, x2, p_ims1d2_outl4_dimred, adapt_stage4_b, adapt_stage4_b2_joint_varout_dimred, mflow_conv_g4_pool, mflow_conv_g4_b);
        x1 = functional.dropout(x1, 0.5, training);
        return clf_conv.call(x1).MoveToOuterDisposeScope();
    }

    public override string EmitOnnx(OnnxGraph g, string x)
    {
        var (l1, l2, l3, l4) = Trunk.EmitOnnx(g, x);
        string x4 = g.Relu(Emit(g, nameof(adapt_stage1_b), adapt_stage1_b, Emit(g, nameof(p_ims1d2_outl1_dimred), p_ims1d2_outl1_dimred, l4)));
        x4 = Emit(g, nameof(mflow_conv_g1_b3_joint_varout_dimred), mflow_conv_g1_b3_joint_varout_dimred,
            Emit(g, nameof(mflow_conv_g1_b), mflow_conv_g1_b, Emit(g, nameof(mflow_conv_g1_pool), mflow_conv_g1_pool, x4)));

        string x3 = EmitFuse(g, l3, x4, 2, p_ims1d2_outl2_dimred, adapt_stage2_b, adapt_stage2_b2_joint_varout_dimred, mflow_conv_g2_pool, mflow_conv_g2_b);
        x3 = Emit(g, nameof(mflow_conv_g2_b3_joint_varout_dimred), mflow_conv_g2_b3_joint_varout_dimred, x3);
        string x2 = EmitFuse(g, l2, x3, 3, p_ims1d2_outl3_dimred, adapt_stage3_b, adapt_stage3_b2_joint_varout_dimred, mflow_conv_g3_pool, mflow_conv_g3_b);
        x2 = Emit(g, nameof(mflow_conv_g3_b3_joint_varout_dimred), mflow_conv_g3_b3_joint_varout_dimred, x2);
        string x1 = EmitFuse(g, l1, x2, 4, p_ims1d2_outl4_dimred, adapt_stage4_b, adapt_stage4_b2_joint_varout_dimred, mflow_conv_g4_pool, mflow_conv_g4_b);
        return Emit(g, nameof(clf_conv), clf_conv, x1);
    }

    private static string Emit(OnnxGraph g, string name, Module module, string x)
    {
        using var scope = g.Scope(name);
        return LayerEmitter.Emit(g, module, x);
    }

    /// <summary>The ONNX twin of <see cref="Fuse"/>; <paramref name="stage"/> names the modules (adapt_stage{n}_b…).</summary>
    private static string EmitFuse(OnnxGraph g, string skip, string deeper, int stage, Conv2d dimred, Sequential adapt, Conv2d joint, Sequential pool, Sequential rcu)
    {
        string s = Emit(g, $"p_ims1d2_outl{stage}_dimred", dimred, skip);
        s = Emit(g, $"adapt_stage{stage}_b", adapt, s);
        s = Emit(g, $"adapt_stage{stage}_b2_joint_varout_dimred", joint, s);
        var shape = g.ShapeOf(skip);
        string up = g.ResizeBilinearAlignCorners(deeper, shape[2], shape[3]);
        string fused = g.Relu(g.Add(s, up));
        return Emit(g, $"mflow_conv_g{stage}_b", rcu, Emit(g, $"mflow_conv_g{stage}_pool", pool, fused));
    }

    /// <summary>One refinement step: adapt the skip features, add the upsampled deeper path, ReLU, CRP, RCU.</summary>
    private static Tensor Fuse(Tensor skip, Tensor deeper, Conv2d dimred, Sequential adapt, Conv2d joint, Sequential pool, Sequential rcu)
    {
        var s = joint.call(adapt.call(dimred.call(skip)));
        var up = functional.interpolate(deeper, [skip.shape[2], skip.shape[3]], mode: InterpolationMode.Bilinear, align_corners: true);
        return rcu.call(pool.call(functional.relu(s.Plus(up))));
    }
}
