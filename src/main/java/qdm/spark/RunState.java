package qdm.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Whether a run directory holds one complete audit, as {@code inspect} and {@code verify} need to
 * know before they show its tables.
 *
 * <p>A run is complete when its report's stage record ({@code _stages/report.json}) and its {@code
 * config.conf} exist: {@link AuditJob#run} removes both, and every record downstream of a step,
 * before it publishes anything new, and writes {@code config.conf} only when the stages asked for
 * are done. So a complete run's tables, report and config all belong to one configuration; anything
 * else is a run that was interrupted, failed or is still going.
 *
 * @param root the run directory
 * @param exists whether the run directory exists
 * @param complete whether the run is complete
 * @param steps the steps that have a completion record (e.g. {@code tokenize}, {@code encode/fp}),
 *     in the order of their files
 */
public record RunState(Path root, boolean exists, boolean complete, List<String> steps) {

  public RunState {
    steps = List.copyOf(steps);
  }

  /** The state of the run at {@code layout}. */
  public static RunState of(RunLayout layout) {
    List<String> steps = new ArrayList<>();
    for (String f : layout.children(layout.table("_stages"))) {
      if (f.endsWith(".json")) {
        String step = f.substring(0, f.length() - ".json".length());
        steps.add(step.startsWith("encode.") ? "encode/" + step.substring(7) : step);
      }
    }
    // in stage order: tokenize, encode/..., analyze, report
    steps.sort(
        java.util.Comparator.comparingInt(
            (String s) ->
                AuditJob.STAGES.indexOf(s.contains("/") ? s.substring(0, s.indexOf('/')) : s)));
    boolean complete = steps.contains("report") && layout.exists(layout.table("config.conf"));
    return new RunState(layout.root(), layout.exists(layout.root()), complete, steps);
  }

  /**
   * The run directory a table (or partition, or file) of a run lies in: the nearest ancestor
   * holding {@code _stages}; empty for a path outside any run.
   */
  public static Optional<Path> runOf(String location, Configuration hadoop) {
    try {
      Path p = new Path(location);
      FileSystem fs = p.getFileSystem(hadoop);
      for (Path dir = fs.makeQualified(p); dir != null; dir = dir.getParent()) {
        if (fs.exists(new Path(dir, "_stages"))) {
          return Optional.of(dir);
        }
      }
    } catch (java.io.IOException | IllegalArgumentException e) {
      // not a readable location: the caller reports that itself
    }
    return Optional.empty();
  }

  /** One line for the user: complete, or what is missing and what to do. */
  public String describe() {
    if (!exists) {
      return root
          + ": no run here (the directory does not exist); run 'jobs/qdm run CONF' "
          + "first";
    }
    if (complete) {
      return root + ": complete";
    }
    return root
        + ": incomplete ("
        + (steps.isEmpty()
            ? "no stage has completed"
            : "completed: "
                + String.join(", ", steps)
                + "; the report has not been written for "
                + "this configuration")
        + "): the run was interrupted, failed or is still running; "
        + "re-run the same 'jobs/qdm run' command to finish it";
  }
}
