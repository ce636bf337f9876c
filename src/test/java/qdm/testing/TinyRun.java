package qdm.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * One small complete audit, run once per test JVM the way users run it on a cluster and shared by
 * the tests that need real outputs (spark-submit, inspect and Avro schemas, Zeppelin notebooks, the
 * Airflow DAG's verify step).
 *
 * <p>It is launched in a child JVM through Spark's own {@code SparkSubmit} main class with the
 * arguments {@code jobs/qdm-submit --print-command} builds ({@code --master local[2] --class
 * qdm.cli.Main APP.jar run tiny.conf}), with QDM's classes only in the application jar (built here
 * from {@code target/classes}) and the model and SAE given as {@code hf://} locations served by a
 * {@link FakeHub} on 127.0.0.1, so the run also downloads them into its hub cache on the driver
 * before the preflight.
 */
public final class TinyRun {
  /** Conditions of the run (the null run is added by the job). */
  public static final List<String> CONDITIONS = List.of("fp", "fp-null", "rtn6", "prune-matched");

  public static final String RUN_NAME = "tiny";
  private static TinyRun instance;

  private final Path dir;
  private final Path config;
  private final Path appJar;
  private final int exit;
  private final String out;
  private final String err;
  private final List<String> hubRequests;
  private final String hubEndpoint;

  private TinyRun(
      Path dir,
      Path config,
      Path appJar,
      int exit,
      String out,
      String err,
      List<String> hubRequests,
      String hubEndpoint) {
    this.dir = dir;
    this.config = config;
    this.appJar = appJar;
    this.exit = exit;
    this.out = out;
    this.err = err;
    this.hubRequests = hubRequests;
    this.hubEndpoint = hubEndpoint;
  }

  /** The run, made on first use (a minute or two); fails if the run failed. */
  public static synchronized TinyRun get() {
    if (instance == null) {
      instance = create();
    }
    if (instance.exit != 0) {
      throw new AssertionError(
          "the tiny spark-submit run failed with exit "
              + instance.exit
              + "\n--- stdout\n"
              + instance.out
              + "\n--- stderr (tail)\n"
              + tail(instance.err, 6000));
    }
    return instance;
  }

  public Path dir() {
    return dir;
  }

  /** The config file ({@code output} and {@code hub.cache} inside {@link #dir()}). */
  public Path config() {
    return config;
  }

  public Path appJar() {
    return appJar;
  }

  /** {@code <output>/<run-name>}. */
  public Path runDir() {
    return dir.resolve("out").resolve(RUN_NAME);
  }

  /** A table of the run. */
  public Path table(String name) {
    return runDir().resolve(name);
  }

  public Path hubCache() {
    return dir.resolve("hub");
  }

  public String stdout() {
    return out;
  }

  public String stderr() {
    return err;
  }

  public List<String> hubRequests() {
    return hubRequests;
  }

  public String hubEndpoint() {
    return hubEndpoint;
  }

  private static TinyRun create() {
    try {
      // -Dqdm.tinyrun.keep=DIR keeps the run in DIR and reuses it in later JVMs (iterating on
      // the tests that read it); by default it lives in a temp dir deleted at exit
      String keep = System.getProperty("qdm.tinyrun.keep");
      Path dir;
      if (keep != null) {
        dir = Path.of(keep).toAbsolutePath();
        if (Files.exists(dir.resolve("exit.txt"))) {
          return new TinyRun(
              dir,
              dir.resolve("tiny.conf"),
              dir.resolve("app/qdm-app.jar"),
              Integer.parseInt(Files.readString(dir.resolve("exit.txt")).trim()),
              Files.readString(dir.resolve("stdout.txt")),
              Files.readString(dir.resolve("stderr.txt")),
              Files.readAllLines(dir.resolve("hub-requests.txt")),
              Files.readString(dir.resolve("hub-endpoint.txt")).trim());
        }
        Files.createDirectories(dir);
      } else {
        Path tmp = Files.createTempDirectory("qdm-tinyrun");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(tmp)));
        dir = tmp;
      }
      TinyAudit files = TinyAudit.create(dir.resolve("files"), 1400);
      Path jar = appJar(dir.resolve("app/qdm-app.jar"));
      try (FakeHub hub = new FakeHub()) {
        hub.repo(
            "qdm-test/tiny-neox",
            "1111111111111111111111111111111111111111",
            Map.of(
                "config.json",
                Files.readAllBytes(files.model().resolve("config.json")),
                "tokenizer.json",
                Files.readAllBytes(files.model().resolve("tokenizer.json")),
                "model.safetensors",
                Files.readAllBytes(files.model().resolve("model.safetensors"))),
            Set.of("model.safetensors"));
        hub.repo(
            "qdm-test/tiny-saes",
            "2222222222222222222222222222222222222222",
            Map.of(
                "README.md",
                "tiny SAEs".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "blocks.1/cfg.json",
                Files.readAllBytes(files.sae().resolve("cfg.json")),
                "blocks.1/sae_weights.safetensors",
                Files.readAllBytes(files.sae().resolve("sae_weights.safetensors"))),
            Set.of("blocks.1/sae_weights.safetensors"));
        Path config = dir.resolve("tiny.conf");
        Files.writeString(config, config(dir, files, hub.endpoint()));
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx1200m");
        cmd.addAll(jvmOpens());
        cmd.add("-Dai.djl.offline=true");
        cmd.add("-Dlog4j2.configurationFile=" + Path.of("conf/log4j2.properties").toAbsolutePath());
        cmd.addAll(List.of("-cp", childClasspath(), "org.apache.spark.deploy.SparkSubmit"));
        // spark-submit's arguments as jobs/qdm-submit builds them (minus spark-submit itself)
        List<String> submit = wrapperCommand(dir, jar, config);
        cmd.addAll(submit.subList(1, submit.size()));
        ProcessBuilder pb =
            new ProcessBuilder(cmd)
                .redirectOutput(dir.resolve("stdout.txt").toFile())
                .redirectError(dir.resolve("stderr.txt").toFile());
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().put("OPT_OUT_TRACKING", "true");
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().remove("HF_TOKEN");
        pb.environment().remove("HF_HUB_OFFLINE");
        Process p = pb.start();
        if (!p.waitFor(8, TimeUnit.MINUTES)) {
          p.destroyForcibly();
          throw new AssertionError("the tiny spark-submit run took more than 8 minutes");
        }
        Files.write(dir.resolve("hub-requests.txt"), hub.requests());
        Files.writeString(dir.resolve("hub-endpoint.txt"), hub.endpoint());
        Files.writeString(dir.resolve("exit.txt"), String.valueOf(p.exitValue()));
        return new TinyRun(
            dir,
            config,
            jar,
            p.exitValue(),
            Files.readString(dir.resolve("stdout.txt")),
            Files.readString(dir.resolve("stderr.txt")),
            hub.requests(),
            hub.endpoint());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static String config(Path dir, TinyAudit files, String endpoint) {
    return """
        qdm {
          run-name = "%s"
          output = "%s"
          model { path = "hf://qdm-test/tiny-neox@main" }
          sae { path = "hf://qdm-test/tiny-saes@main/blocks.1" }
          corpus { paths = ["%s"], max-tokens = 384 }
          windows { chunk-length = 32, sliding { length = 48, stride = 16, max-tokens = 160 } }
          conditions = [
            { name = fp, method = none }
            { name = rtn6, method = rtn, bits = 6 }
            { name = prune-matched, method = prune, match-perplexity-of = rtn6,
              search { steps = 2, max-tokens = 128 } }
          ]
          analysis.predictor.folds = 2
          execution { batch-size = 4, windows-per-task = 8 }
          hub { cache = "%s", endpoint = "%s" }
          spark.master = "local[1]"
        }
        """
        .formatted(RUN_NAME, dir.resolve("out"), files.corpus(), dir.resolve("hub"), endpoint);
  }

  /**
   * The command {@code jobs/qdm-submit --print-command} prints for this run (a local-mode
   * properties file instead of conf/spark-gpu.conf: local mode does not schedule GPUs), split into
   * arguments by bash itself.
   */
  static List<String> wrapperCommand(Path dir, Path jar, Path config)
      throws IOException, InterruptedException {
    Path props = dir.resolve("spark-local.conf");
    Files.writeString(
        props,
        String.join(
            "\n",
            "spark.ui.enabled false",
            "spark.driver.host 127.0.0.1",
            "spark.sql.shuffle.partitions 2",
            ""));
    ProcessBuilder pb =
        new ProcessBuilder(
            "bash",
            "jobs/qdm-submit",
            "--properties-file",
            props.toString(),
            "--jar",
            jar.toString(),
            "--print-command",
            "--master",
            "local[2]",
            "--name",
            "qdm-tiny",
            "--",
            "run",
            config.toString());
    pb.environment().put("SPARK_HOME", dir.resolve("spark").toString());
    String line = output(pb);
    Files.writeString(dir.resolve("submit-command.txt"), line);
    return List.of(
        output(
                new ProcessBuilder(
                    "bash",
                    "-c",
                    "eval \"set -- $1\"; printf '%s\\n' \"$@\"",
                    "split",
                    line.trim()))
            .split("\n"));
  }

  /** Standard output of a short command that must succeed. */
  public static String output(ProcessBuilder pb) throws IOException, InterruptedException {
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError(pb.command() + " failed:\n" + out);
    }
    return out;
  }

  /** The spark-submit command line jobs/qdm-submit printed for this run. */
  public String submitCommand() {
    try {
      return Files.readString(dir.resolve("submit-command.txt")).trim();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A jar of target/classes: QDM as spark-submit's application jar. */
  static Path appJar(Path jar) throws IOException {
    Path classes = Path.of("target/classes").toAbsolutePath();
    Files.createDirectories(jar.getParent());
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "qdm.cli.Main");
    try (OutputStream o = Files.newOutputStream(jar);
        JarOutputStream j = new JarOutputStream(o, m);
        Stream<Path> walk = Files.walk(classes)) {
      for (Path f : walk.filter(Files::isRegularFile).sorted().toList()) {
        j.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
        Files.copy(f, j);
        j.closeEntry();
      }
    }
    return jar;
  }

  /** The test classpath without QDM's own classes (they come from the application jar). */
  static String childClasspath() {
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> keep = new ArrayList<>();
    for (String e : cp.split(java.io.File.pathSeparator)) {
      Path p = Path.of(e).toAbsolutePath().normalize();
      if (!p.endsWith(Path.of("target", "classes"))
          && !p.endsWith(Path.of("target", "test-classes"))
          && !e.isBlank()) {
        keep.add(p.toString());
      }
    }
    return String.join(java.io.File.pathSeparator, keep);
  }

  /** The JVM module openings this JVM got (surefire's argLine: the pom's spark.jvm.opens). */
  static List<String> jvmOpens() {
    return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(
            a ->
                a.startsWith("--add-opens")
                    || a.startsWith("-XX:+IgnoreUnrecognized")
                    || a.startsWith("-Djdk.reflect")
                    || a.startsWith("-Dio.netty"))
        .toList();
  }

  static String tail(String s, int chars) {
    return s.length() <= chars ? s : "..." + s.substring(s.length() - chars);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort at exit
    }
  }
}
