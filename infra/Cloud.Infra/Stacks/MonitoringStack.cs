using Amazon.CDK;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.CloudWatch.Actions;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.SNS;
using Amazon.CDK.AWS.SNS.Subscriptions;
using Amazon.CDK.AWS.SQS;
using Constructs;

namespace Cloud.Infra.Stacks;

/// <summary>
/// Alarms (consumer lag, throttling, function errors, on-failure queue depth) that notify one SNS topic (with an
/// email subscription when <c>cloud:alarms.email</c> is set), and a dashboard.
/// </summary>
public sealed class MonitoringStack : Stack
{
    private static readonly Duration Period = Duration.Minutes(5);

    /// <summary>Creates the stack.</summary>
    public MonitoringStack(Construct scope, string id, InfraConfig config, StreamsStack streams, ConsumersStack consumers, IStackProps? props = null)
        : base(scope, id, props)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(streams);
        ArgumentNullException.ThrowIfNull(consumers);
        var a = config.Alarms;
        var name = config.Name;

        var alarms = new List<Alarm>();
        foreach (var (label, fn) in new[] { ("Aggregator", consumers.Aggregator), ("Forget", consumers.Forget) })
        {
            // IteratorAge of an ESM-driven function = age of the newest record it got = consumer lag.
            alarms.Add(NewAlarm($"{label}IteratorAge", $"{name} {label}: consumer lag (IteratorAge) above {a.IteratorAgeSeconds} s",
                IteratorAge(fn), a.IteratorAgeSeconds * 1000.0, 3));
            alarms.Add(NewAlarm($"{label}Errors", $"{name} {label}: function errors",
                fn.MetricErrors(new MetricOptions { Period = Period, Statistic = "Sum" }), a.FunctionErrors, 1));
        }

        foreach (var label in new[] { "Aggregator", "Forget" })
        {
            // From the functions' own EMF lines: invocations that threw or reported failed items.
            alarms.Add(NewAlarm($"{label}EmfFailedInvocations", $"{name} {label}: invocations that failed or reported failed records (EMF {FunctionInvocations})",
                EmfInvocations(config.MetricsNamespace, label.ToLowerInvariant(), "error"), a.FunctionErrors, 1));
        }

        foreach (var (label, stream) in new[] { ("Events", streams.Events), ("Forget", streams.ForgetRequests) })
        {
            alarms.Add(NewAlarm($"{label}WriteThroughputExceeded", $"{name} {label} stream: writes throttled",
                stream.MetricWriteProvisionedThroughputExceeded(new MetricOptions { Period = Period, Statistic = "Sum" }), a.ThroughputExceeded, 1));
            alarms.Add(NewAlarm($"{label}ReadThroughputExceeded", $"{name} {label} stream: reads throttled",
                stream.MetricReadProvisionedThroughputExceeded(new MetricOptions { Period = Period, Statistic = "Sum" }), a.ThroughputExceeded, 1));
        }

        foreach (var (label, queue) in new[] { ("AggregatorFailures", consumers.AggregatorFailures), ("ForgetFailures", consumers.ForgetFailures) })
        {
            alarms.Add(NewAlarm($"{label}QueueDepth", $"{name}: batches in the {label} on-failure queue",
                QueueDepth(queue), a.OnFailureQueueDepth, 1));
        }

        // One topic for every alarm: subscribe people or tools to it once (cdk.json's alarms.email does it by email).
        AlarmTopic = new Topic(this, "AlarmTopic", new TopicProps { TopicName = $"{name.ToLowerInvariant()}-alarms", DisplayName = $"{name} pipeline alarms" });
        if (a.Email is { } email)
        {
            AlarmTopic.AddSubscription(new EmailSubscription(email));
        }

        var notify = new SnsAction(AlarmTopic);
        foreach (var alarm in alarms)
        {
            alarm.AddAlarmAction(notify);
        }

        Alarms = alarms;

        Dashboard = new Dashboard(this, "Dashboard", new DashboardProps { DashboardName = $"{name}-pipeline" });
        Dashboard.AddWidgets(
            Graph("Events stream: records in", streams.Events.MetricIncomingRecords(Sum()), streams.Events.MetricPutRecordsSuccessfulRecords(Sum())),
            Graph("Events stream: bytes in", streams.Events.MetricIncomingBytes(Sum())),
            Graph("Throttled (write / read)", streams.Events.MetricWriteProvisionedThroughputExceeded(Sum()), streams.Events.MetricReadProvisionedThroughputExceeded(Sum())));
        Dashboard.AddWidgets(
            Graph("Consumer lag (IteratorAge, ms)", IteratorAge(consumers.Aggregator), IteratorAge(consumers.Forget)),
            Graph("Function errors", consumers.Aggregator.MetricErrors(Sum()), consumers.Forget.MetricErrors(Sum())),
            Graph("Function duration (p99)", consumers.Aggregator.MetricDuration(new MetricOptions { Statistic = "p99" }), consumers.Forget.MetricDuration(new MetricOptions { Statistic = "p99" })),
            Graph("On-failure queue depth", QueueDepth(consumers.AggregatorFailures), QueueDepth(consumers.ForgetFailures)));
        Dashboard.AddWidgets(
            Graph($"Function invocations by outcome (EMF, {config.MetricsNamespace})",
                EmfInvocations(config.MetricsNamespace, "aggregator", "ok"), EmfInvocations(config.MetricsNamespace, "aggregator", "error"),
                EmfInvocations(config.MetricsNamespace, "forget", "ok"), EmfInvocations(config.MetricsNamespace, "forget", "error")),
            Graph("Function duration p99 (EMF, ms)", EmfDuration(config.MetricsNamespace, "aggregator"), EmfDuration(config.MetricsNamespace, "forget")));
        Dashboard.AddWidgets(new AlarmStatusWidget(new AlarmStatusWidgetProps { Title = "Alarms", Alarms = alarms.ToArray(), Width = 24 }));
    }

    /// <summary>The topic every alarm notifies.</summary>
    public Topic AlarmTopic { get; }

    /// <summary>Every alarm created.</summary>
    public IReadOnlyList<Alarm> Alarms { get; }

    /// <summary>The pipeline dashboard.</summary>
    public Dashboard Dashboard { get; }

    /// <summary>The functions' EMF invocation counter (Cloud.Functions meter).</summary>
    public const string FunctionInvocations = "cloud.functions.invocations";

    /// <summary>The functions' EMF duration histogram (Cloud.Functions meter).</summary>
    public const string FunctionDuration = "cloud.functions.duration";

    private static IMetric EmfInvocations(string ns, string function, string outcome) => new Metric(new MetricProps
    {
        Namespace = ns,
        MetricName = FunctionInvocations,
        DimensionsMap = new Dictionary<string, string> { ["function"] = function, ["outcome"] = outcome },
        Statistic = "Sum",
        Period = Period,
    });

    private static IMetric EmfDuration(string ns, string function) => new Metric(new MetricProps
    {
        Namespace = ns,
        MetricName = FunctionDuration,
        DimensionsMap = new Dictionary<string, string> { ["function"] = function },
        Statistic = "p99",
        Period = Period,
    });

    private static MetricOptions Sum() => new() { Period = Period, Statistic = "Sum" };

    private static IMetric IteratorAge(Function fn) => fn.Metric("IteratorAge", new MetricOptions { Period = Duration.Minutes(1), Statistic = "Maximum" });

    private static IMetric QueueDepth(Queue q) => q.MetricApproximateNumberOfMessagesVisible(new MetricOptions { Period = Duration.Minutes(1), Statistic = "Maximum" });

    private static GraphWidget Graph(string title, params IMetric[] metrics) => new(new GraphWidgetProps { Title = title, Left = metrics, Width = 8 });

    private Alarm NewAlarm(string id, string description, IMetric metric, double threshold, int periods) => new(this, id, new AlarmProps
    {
        AlarmDescription = description,
        Metric = metric,
        Threshold = threshold,
        EvaluationPeriods = periods,
        ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        TreatMissingData = TreatMissingData.NOT_BREACHING,
    });
}
