from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import mloop
from mloop.errors import InvalidInput
from mloop.pipelines.graph import Graph, OutputRef
from mloop.pipelines.steps import coerce_text
from tests.pipelines import flows


class Opaque:
    pass


@dataclasses.dataclass
class Pair:
    left: int
    right: str


def test_a_step_outside_a_pipeline_is_its_function() -> None:
    assert flows.square(7) == 49
    assert flows.square.__name__ == "square"
    assert flows.square.__doc__ is None


def test_build_makes_the_dag_in_call_order() -> None:
    graph = flows.fan.build(n=2)
    assert [n.id for n in graph.order()] == ["square", "square_2", "square_3", "collect", "total"]
    assert graph.nodes["square_2"].params == {"x": 3}
    assert sorted(graph.upstream("collect")) == ["square", "square_2", "square_3"]


def test_multiple_outputs_by_tuple_namedtuple_and_dataclass() -> None:
    @mloop.step
    def two() -> tuple[int, str]:
        return 1, "a"

    @mloop.step
    def pair() -> Pair:
        return Pair(1, "a")

    @mloop.step
    def use(a: int, b: str) -> str:
        return f"{a}{b}"

    @mloop.pipeline
    def shapes() -> None:
        first, second = two()
        both = pair()
        use(first, second)
        use(both.left, both.right)

    result = shapes.run()
    assert result.output("use") == "1a" == result.output("use_2")
    assert sorted(result.steps["pair"].outputs) == ["left", "right"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rows": "many"}, "pipeline parameter 'rows' must be int, got str 'many'"),
        ({"rows": True}, "must be int, got bool"),
        ({"nope": 1}, "has no parameter 'nope'"),
        ({"lr": float("nan")}, "JSON-able"),
    ],
)
def test_bad_params_fail_before_anything_runs(
    home: Path, params: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        flows.training.run(**params)
    assert mloop.search_runs(output_format="list") == []


def test_a_missing_param() -> None:
    @mloop.pipeline
    def needs(size: int) -> None:
        flows.square(size)

    with pytest.raises(InvalidInput, match="needs parameter 'size'"):
        needs.build()


def test_ints_are_accepted_for_floats() -> None:
    assert flows.training.build(lr=1).nodes["train"].params == {"lr": 1.0}


def test_a_wrong_step_argument_type_is_caught_at_build_time() -> None:
    @mloop.pipeline
    def wrong() -> None:
        flows.square("three")

    with pytest.raises(InvalidInput, match="step 'square' argument 'x' must be int, got str"):
        wrong.build()


def test_an_output_of_the_wrong_declared_type() -> None:
    @mloop.pipeline
    def mismatched() -> None:
        flows.square(flows.load(3))

    with pytest.raises(InvalidInput, match="expects int, but <output 'output' of step 'load'>"):
        mismatched.build()


def test_an_output_from_another_pipeline_does_not_exist_here() -> None:
    other = Graph("other")
    other.add_node("made", step=None, params={}, inputs={}, outputs=("output",))
    stray = OutputRef(other, "made", "output", int)

    @mloop.pipeline
    def borrowing() -> None:
        flows.square(stray)

    with pytest.raises(InvalidInput, match="does not exist in pipeline 'borrowing'"):
        borrowing.build()


def test_a_cycle_is_reported_with_its_steps() -> None:
    graph = Graph("loop")
    a = graph.add_node("a", step=None, params={}, inputs={}, outputs=("output",))
    graph.add_node(
        "b",
        step=None,
        params={},
        inputs={"x": OutputRef(graph, "a", "output")},
        outputs=("output",),
    )
    a.inputs["y"] = OutputRef(graph, "b", "output")  # wired behind the builder's back
    with pytest.raises(InvalidInput, match="has a cycle through steps a, b"):
        graph.order()


def test_using_an_output_as_a_value_while_building() -> None:
    @mloop.pipeline
    def branching() -> None:
        if flows.square(2) > 3:
            flows.square(3)

    with pytest.raises(InvalidInput, match="has no value while the pipeline is being built"):
        branching.build()


def test_an_output_type_nothing_can_store() -> None:
    with pytest.raises(InvalidInput, match="declared as Opaque, which no materializer stores"):

        @mloop.step
        def opaque() -> Opaque:
            return Opaque()


def test_pickle_only_when_asked_for(home: Path) -> None:
    @mloop.step(materializers={"output": "pickle"})
    def opaque() -> Opaque:
        return Opaque()

    @mloop.step
    def undeclared() -> object:
        return Opaque()

    @mloop.pipeline
    def pickled() -> None:
        opaque()

    assert isinstance(pickled.run().output("opaque"), Opaque)

    @mloop.pipeline
    def unstorable() -> None:
        undeclared()

    with pytest.raises(mloop.pipelines.PipelineFailed, match="no materializer stores"):
        unstorable.run()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retries": -1}, "retries must be an int >= 0"),
        ({"retry_delay": -1}, "retry_delay must be >= 0"),
        ({"timeout": 0}, "timeout must be > 0"),
        ({"resources": {"cpus": -1}}, "resources must be positive"),
        ({"materializers": {"nope": "json"}}, "materializers name unknown outputs"),
    ],
)
def test_bad_step_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        mloop.step(**options)(flows.square.func)  # type: ignore[call-overload]


def test_pipeline_params_may_not_shadow_run_options() -> None:
    with pytest.raises(InvalidInput, match="clash with run options"):

        @mloop.pipeline
        def shadowing(cache: int = 1) -> None:
            flows.square(cache)


def test_a_pipeline_that_calls_no_step() -> None:
    @mloop.pipeline
    def empty() -> None:
        pass

    with pytest.raises(InvalidInput, match="calls no step"):
        empty.build()


@pytest.mark.parametrize(
    ("text", "annotation", "value"),
    [
        ("3", int, 3),
        ("0.5", float, 0.5),
        ("no", bool, False),
        ("[1, 2]", list, [1, 2]),
        ("x", str, "x"),
    ],
)
def test_params_from_text(text: str, annotation: type, value: object) -> None:
    assert coerce_text("p", text, annotation) == value


def test_bad_params_from_text() -> None:
    with pytest.raises(InvalidInput, match="parameter 'p' must be bool, got 'maybe'"):
        coerce_text("p", "maybe", bool)


def test_a_list_of_outputs_fans_in(home: Path) -> None:
    @mloop.pipeline
    def fan_in(n: int = 12) -> None:
        flows.total([flows.square(i) for i in range(n)])

    graph = fan_in.build(n=3)
    assert graph.nodes["total"].lists == {"values": 3}
    assert sorted(graph.upstream("total")) == ["square", "square_2", "square_3"]
    result = fan_in.run(n=12)
    assert result.output("total") == sum(i * i for i in range(12))
    assert all(s.cached for s in fan_in.run(n=12).steps.values())


def test_a_list_mixing_outputs_and_literals() -> None:
    @mloop.pipeline
    def mixed() -> None:
        flows.total([flows.square(2), 3])

    with pytest.raises(InvalidInput, match="mixes step outputs and literal values"):
        mixed.build()


def test_a_list_element_of_the_wrong_type() -> None:
    @mloop.pipeline
    def wrong() -> None:
        flows.total([flows.square(2), flows.load(3)])

    with pytest.raises(InvalidInput, match=r"argument 'values\[1\]' expects int"):
        wrong.build()
