using Xunit.Abstractions;
using Xunit.Sdk;

namespace DANNet.System.Tests;

/// <summary>Runs a class's tests in the order of their names: the system test's steps build on each other (install … purge).</summary>
public sealed class OrderByName : ITestCaseOrderer
{
    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.Name, StringComparer.Ordinal);
}
