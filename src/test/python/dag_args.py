"""Reads QDM's Airflow DAG file without Airflow (which need not be installed): for every
SparkSubmitOperator, its task_id, application_args with the Jinja {{ params.X }} placeholders
substituted, and its own retries; the DAG's default retries; the task order of the
`a >> b >> c` chain. Prints JSON. Used by AirflowDagTest.

    python3 dag_args.py jobs/airflow/qdm_audit_dag.py '{"config": "x.conf", "run_name": "r"}'
"""
import ast
import json
import re
import sys


def call_name(func):
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def render(text, params):
    out = re.sub(r"\{\{\s*params\.(\w+)\s*\}\}", lambda m: str(params[m.group(1)]), text)
    if "{{" in out:
        raise ValueError("unrendered template in %r" % text)
    return out


def chain(node):
    """Task variable names of a >> b >> c, left to right."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
        return chain(node.left) + chain(node.right)
    if isinstance(node, ast.Name):
        return [node.id]
    raise ValueError("unexpected node in a task chain: %s" % ast.dump(node))


def main(path, params):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    tasks = {}
    order = []
    default_retries = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and call_name(node.value.func) == "SparkSubmitOperator":
            kw = {k.arg: k.value for k in node.value.keywords if k.arg}
            tasks[node.targets[0].id] = {
                "task_id": ast.literal_eval(kw["task_id"]),
                "application_args": [render(a, params)
                                     for a in ast.literal_eval(kw["application_args"])],
                "retries": ast.literal_eval(kw["retries"]) if "retries" in kw else None,
            }
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.BinOp) \
                and isinstance(node.value.op, ast.RShift):
            order = chain(node.value)
        elif isinstance(node, ast.keyword) and node.arg == "default_args" \
                and isinstance(node.value, ast.Dict):
            for k, v in zip(node.value.keys, node.value.values):
                if isinstance(k, ast.Constant) and k.value == "retries":
                    default_retries = ast.literal_eval(v)
    print(json.dumps({
        "tasks": [tasks[name] for name in order],
        "unchained": sorted(set(tasks) - set(order)),
        "default_retries": default_retries,
    }))


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
