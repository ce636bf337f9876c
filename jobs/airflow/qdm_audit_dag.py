"""QDM's audit as an Airflow DAG: one spark-submit per stage, then the null-run check.

    tokenize >> encode >> analyze >> report >> verify_null_run

Each stage task runs ``qdm run CONFIG --set run-name=RUN --stage STAGE`` with Spark's
spark-submit (SparkSubmitOperator, Airflow connection ``spark_default``: set its master, e.g.
yarn, and its deploy mode there). A stage reads the previous stage's Parquet and skips itself
when complete with the same inputs, so Airflow's retries and manual re-runs of one task are safe.

The final task runs ``qdm verify CONFIG --set run-name=RUN``: it reads the published
``feature_survival`` table and fails the DAG run unless the FP-vs-FP null run (condition
``<reference>-null``) gives r = 1 for every active feature. The analyze stage already fails when
the null run does; verify checks the published result independently, and also fails when the
config switched the null run off (``analysis.null-run = false``) or its rows are missing.

Trigger a run with its parameters, e.g.:
    airflow dags trigger qdm_audit \
      --conf '{"config": "/opt/qdm/conf/gemma-2-2b.conf", "run_name": "gemma-2-2b"}'

Deployment (README, "Airflow"): the job jar, the config files and conf/spark-gpu.conf must be
readable where spark-submit runs (the Airflow worker in client mode). Airflow Variables, all
optional: qdm_job_jar, qdm_spark_properties, qdm_gpu_discovery_script.

Requires apache-airflow-providers-apache-spark.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.models.param import Param
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

JOB_JAR = "{{ var.value.get('qdm_job_jar', '/opt/qdm/qdm-job.jar') }}"
SPARK_PROPERTIES = "{{ var.value.get('qdm_spark_properties', '/opt/qdm/conf/spark-gpu.conf') }}"
GPU_DISCOVERY = "{{ var.value.get('qdm_gpu_discovery_script', '/opt/qdm/jobs/gpu-discovery.sh') }}"

with DAG(
    dag_id="qdm_audit",
    description="QDM: SAE feature damage under quantization and pruning (one audit run)",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "qdm",
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
    },
    params={
        "config": Param(
            "/opt/qdm/conf/pythia-70m.conf",
            type="string",
            description="QDM config file (HOCON), readable where spark-submit runs",
        ),
        "run_name": Param(
            "pythia-70m",
            type="string",
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
            description="Run name: outputs go to <output>/<run_name>/",
        ),
    },
    tags=["qdm", "spark", "gpu"],
) as dag:
    common = dict(
        application=JOB_JAR,
        java_class="qdm.cli.Main",
        conn_id="spark_default",
        properties_file=SPARK_PROPERTIES,
        files=GPU_DISCOVERY,
        name="qdm-{{ params.run_name }}-{{ task.task_id }}",
        env_vars={"DJL_OFFLINE": "true", "OPT_OUT_TRACKING": "true"},
    )

    tokenize = SparkSubmitOperator(
        task_id="tokenize",
        application_args=["run", "{{ params.config }}", "--set", "run-name={{ params.run_name }}",
                          "--stage", "tokenize"],
        **common,
    )
    encode = SparkSubmitOperator(
        task_id="encode",
        application_args=["run", "{{ params.config }}", "--set", "run-name={{ params.run_name }}",
                          "--stage", "encode"],
        execution_timeout=timedelta(hours=12),
        **common,
    )
    analyze = SparkSubmitOperator(
        task_id="analyze",
        application_args=["run", "{{ params.config }}", "--set", "run-name={{ params.run_name }}",
                          "--stage", "analyze"],
        **common,
    )
    report = SparkSubmitOperator(
        task_id="report",
        application_args=["run", "{{ params.config }}", "--set", "run-name={{ params.run_name }}",
                          "--stage", "report"],
        **common,
    )
    # No retries: a failed null run is a finding about the pipeline, not a transient error.
    verify_null_run = SparkSubmitOperator(
        task_id="verify_null_run",
        application_args=["verify", "{{ params.config }}", "--set",
                          "run-name={{ params.run_name }}"],
        retries=0,
        **common,
    )

    tokenize >> encode >> analyze >> report >> verify_null_run
