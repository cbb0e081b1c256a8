"""tests/deploy/network_policy.py against the NetworkPolicy semantics it claims, on hand-written policies: the
default policyTypes, isolation per direction, additive rules, both ends of a connection, peers (a pod and a
namespace selector in one peer and in two), ipBlock with except, ports (protocol, named, endPort, none)
and selector expressions. test_k8s.py then trusts it with the rendered manifests."""

from __future__ import annotations

import ipaddress
from typing import Any

from tests.deploy.manifests import Manifest
from tests.deploy.network_policy import Cluster, Endpoint, Port, selects

WEB = Port(80, name="http")
DNS_UDP, DNS_TCP = Port(53, "UDP"), Port(53)


def pod(name: str, namespace: str = "app", ip: str = "10.244.0.1", **labels: str) -> Endpoint:
    return Endpoint(name, ipaddress.ip_address(ip), namespace, labels, (WEB, DNS_UDP, DNS_TCP, Port(8080)))


def policy(name: str, spec: dict[str, Any], namespace: str = "app") -> Manifest:
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def cluster(*policies: Manifest, namespaces: dict[str, dict[str, str]] | None = None) -> Cluster:
    known = namespaces or {"app": {}, "other": {"team": "ops"}}
    return Cluster(
        list(policies), {n: {**labels, "kubernetes.io/metadata.name": n} for n, labels in known.items()}
    )


A, B = pod("a", role="a"), pod("b", ip="10.244.0.2", role="b")
OUTSIDE = Endpoint("outside", ipaddress.ip_address("203.0.113.9"), ports=(Port(443), WEB))


def test_no_policy_allows_everything_and_an_ingress_only_policy_leaves_egress_open() -> None:
    assert cluster().allows(A, B, WEB)
    only_ingress = cluster(policy("b", {"podSelector": {"matchLabels": {"role": "b"}}, "ingress": []}))
    assert not only_ingress.allows(A, B, WEB)  # B isolated for ingress, nothing allowed
    assert only_ingress.allows(B, A, WEB)  # B's egress is not isolated: no policyTypes, no egress
    with_egress = cluster(policy("b", {"podSelector": {"matchLabels": {"role": "b"}}, "egress": []}))
    assert not with_egress.allows(B, A, WEB)  # egress rules make it an Egress policy too


def test_rules_add_up_and_need_both_ends() -> None:
    deny = policy("deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    a_out = policy(
        "a", {"podSelector": {"matchLabels": {"role": "a"}}, "policyTypes": ["Egress"], "egress": [{}]}
    )
    b_in = policy(
        "b",
        {
            "podSelector": {"matchLabels": {"role": "b"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "a"}}}], "ports": [{"port": 80}]}],
        },
    )
    assert not cluster(deny, a_out).allows(A, B, WEB)  # B's end refuses
    assert not cluster(deny, b_in).allows(A, B, WEB)  # A's end refuses
    both = cluster(deny, a_out, b_in)
    assert both.allows(A, B, WEB) and not both.allows(A, B, Port(8080)) and not both.allows(B, A, WEB)
    assert both.reachable(A, B) == {"80/TCP"}


def test_a_peer_with_both_selectors_needs_both_and_two_peers_either() -> None:
    elsewhere = pod("c", namespace="other", ip="10.244.1.1", role="a")
    same_ns_other_role = pod("d", ip="10.244.0.4", role="x")
    ops = {"namespaceSelector": {"matchLabels": {"team": "ops"}}}
    role_a = {"podSelector": {"matchLabels": {"role": "a"}}}

    def to_b(peers: list[Manifest]) -> Cluster:
        spec = {
            "podSelector": {"matchLabels": {"role": "b"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": peers}],
        }
        return cluster(policy("b", spec))

    one_peer = to_b([{**ops, **role_a}])
    assert one_peer.allows(elsewhere, B, WEB) and not one_peer.allows(A, B, WEB)
    two_peers = to_b([ops, role_a])
    assert two_peers.allows(elsewhere, B, WEB) and two_peers.allows(A, B, WEB)
    assert not two_peers.allows(same_ns_other_role, B, WEB)
    pod_selector_only = to_b([role_a])  # the policy's own namespace only
    assert not pod_selector_only.allows(elsewhere, B, WEB)
    assert not to_b([ops]).allows(OUTSIDE, B, WEB)  # selectors choose pods, not addresses
    assert to_b([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}}}]).allows(
        elsewhere, B, WEB
    )


def test_ip_blocks_and_their_exceptions() -> None:
    spec = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": [{"port": 443}]}
        ],
    }
    internet = cluster(policy("out", spec))
    assert internet.allows(A, OUTSIDE, Port(443)) and not internet.allows(A, OUTSIDE, WEB)
    assert not internet.allows(
        A, Endpoint("private", ipaddress.ip_address("10.1.2.3"), ports=(Port(443),)), Port(443)
    )
    assert not internet.allows(A, B, Port(443))  # B's address is in the exception


def test_ports_by_protocol_name_range_and_none() -> None:
    def ingress(ports: list[Manifest] | None) -> Cluster:
        rule: Manifest = {} if ports is None else {"ports": ports}
        return cluster(policy("b", {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [rule]}))

    assert ingress(None).allows(A, B, DNS_UDP) and ingress([]).allows(
        A, B, DNS_UDP
    )  # every port and protocol
    udp = ingress([{"protocol": "UDP", "port": 53}])
    assert udp.allows(A, B, DNS_UDP) and not udp.allows(A, B, DNS_TCP)
    assert ingress([{"port": 53}]).allows(A, B, DNS_TCP) and not ingress([{"port": 53}]).allows(A, B, DNS_UDP)
    named = ingress([{"port": "http"}])
    assert named.allows(A, B, WEB) and not named.allows(A, B, Port(8080))
    ranged = ingress([{"port": 8000, "endPort": 8100}])
    assert ranged.allows(A, B, Port(8080)) and not ranged.allows(A, B, WEB)
    assert ingress([{"protocol": "TCP"}]).allows(A, B, Port(8080))  # no port: every TCP port


def test_selector_expressions() -> None:
    labels = {"app": "smoa", "tier": "peer"}
    assert selects({}, labels)
    assert selects(
        {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["peer", "front"]}]}, labels
    )
    assert not selects(
        {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["peer"]}]}, labels
    )
    assert selects({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, labels)
    assert selects({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, labels)
    assert not selects({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, labels)
    assert not selects(
        {
            "matchLabels": {"app": "smoa"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["x"]}],
        },
        labels,
    )
