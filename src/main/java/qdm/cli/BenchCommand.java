package qdm.cli;

import picocli.CommandLine.Command;
import qdm.bench.AnalysisBench;
import qdm.bench.BenchForwardCommand;
import qdm.bench.CompressBenchCommand;
import qdm.bench.DequantBenchCommand;
import qdm.bench.EncodeBenchCommand;
import qdm.bench.FiniteBenchCommand;
import qdm.bench.SaeBenchCommand;

/** {@code qdm bench}: benchmarks that print figures (never run as tests). */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks that print throughput figures.",
    subcommands = {
      BenchForwardCommand.class,
      CompressBenchCommand.class,
      SaeBenchCommand.class,
      AnalysisBench.class,
      EncodeBenchCommand.class,
      qdm.bench.SweepBenchCommand.class,
      FiniteBenchCommand.class,
      DequantBenchCommand.class
    })
final class BenchCommand {}
