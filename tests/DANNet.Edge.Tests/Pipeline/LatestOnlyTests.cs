using System.Reactive.Linq;
using System.Reactive.Subjects;
using DANNet.Edge.Pipeline;

namespace DANNet.Edge.Tests.Pipeline;

public sealed class LatestOnlyTests
{
    private sealed class Item(int value)
    {
        public int Value { get; } = value;
    }

    [Fact]
    public void A_slow_consumer_gets_the_newest_item_and_the_rest_are_dropped_not_queued()
    {
        var source = new Subject<Item>();
        var dropped = new List<int>();
        var seen = new List<int>();
        using var firstTaken = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        using var sub = source.ObserveLatestOn("test", d => { lock (dropped) dropped.Add(d.Value); })
            .Subscribe(i =>
            {
                seen.Add(i.Value);
                if (i.Value == 0) { firstTaken.Set(); release.Wait(); }
            }, done.Set);

        source.OnNext(new Item(0));
        Assert.True(firstTaken.Wait(5000));
        for (int v = 1; v <= 5; v++) source.OnNext(new Item(v));   // the consumer is busy with 0
        source.OnCompleted();
        release.Set();
        Assert.True(done.Wait(5000));
        Assert.Equal([0, 5], seen);
        Assert.Equal([1, 2, 3, 4], dropped);
    }

    [Fact]
    public void Errors_reach_the_subscriber_after_the_waiting_item()
    {
        var source = new Subject<Item>();
        Exception? error = null;
        var seen = new List<int>();
        using var failed = new ManualResetEventSlim();
        using var sub = source.ObserveLatestOn("test", _ => { }).Subscribe(i => seen.Add(i.Value), e => { error = e; failed.Set(); });
        source.OnNext(new Item(1));
        source.OnError(new InvalidOperationException("camera gone"));
        Assert.True(failed.Wait(5000));
        Assert.Equal("camera gone", error!.Message);
        Assert.Equal([1], seen);
    }

    [Fact]
    public void Disposing_stops_the_consumer_and_returns_a_waiting_item()
    {
        var source = new Subject<Item>();
        var dropped = new List<int>();
        using var busy = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var sub = source.ObserveLatestOn("test", d => { lock (dropped) dropped.Add(d.Value); }).Subscribe(i => { busy.Set(); release.Wait(); });
        source.OnNext(new Item(1));
        Assert.True(busy.Wait(5000));
        source.OnNext(new Item(2));
        release.Set();
        sub.Dispose();
        Assert.False(source.HasObservers);
        lock (dropped) Assert.True(dropped.Count <= 1);
    }
}
