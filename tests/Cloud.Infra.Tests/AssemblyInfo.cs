// jsii (the bridge to the CDK's JavaScript) is not thread-safe: one test at a time in this assembly.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
