"""Which endpoint may open a connection to which, on which port, under a set of rendered NetworkPolicies
(networking.k8s.io/v1), evaluated the way the Kubernetes documentation defines them, with no cluster:

- A policy applies to the pods of its own namespace that its `podSelector` selects (`{}`: all of them). It
  isolates them for each of its `policyTypes`; without `policyTypes`, for Ingress, and for Egress too if it
  has `egress` rules. A pod no policy isolates in a direction is open in that direction.
- Rules only allow, and what they allow adds up: traffic to an isolated pod is allowed if any ingress rule
  of any policy isolating it allows it, and traffic from an isolated pod likewise by an egress rule.
  A connection needs both ends: the source's egress and the destination's ingress. An endpoint that is no
  pod (an address outside the cluster's pods) has no policies, so only the pod's end decides.
- A rule with no `from`/`to` (or an empty one) matches every peer; with no `ports` (or empty), every port.
  A peer is a `podSelector` (pods of the policy's namespace), a `namespaceSelector` (every pod of the
  namespaces it selects), both in one peer (those pods of those namespaces), or an `ipBlock` (addresses in
  `cidr` and not in `except`; matched against any endpoint's address, pods' included, as the common
  plugins do).
- A port has a `protocol` (TCP by default) and a `port`, a number (up to `endPort` when given) or the name
  of a container port of the destination pod; without `port`, every port of that protocol.
- Label selectors: `matchLabels` and `matchExpressions` (In, NotIn, Exists, DoesNotExist; NotIn and
  DoesNotExist also match a pod without the key); both must hold. Every namespace has the label
  `kubernetes.io/metadata.name` with its name, as the API server sets it.

Not modelled: traffic a plugin lets through whatever the policies say (a node to its own pods, hence the
kubelet's probes; a pod to itself), Services (a policy sees the pod the Service picked, so endpoints here
are pods and addresses) and the gap between an address and its pod's labels."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tests.deploy.manifests import Manifest, find

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
# Where a rendered Deployment's pod is put: kubeadm's default pod range (inside 10.0.0.0/8).
POD_RANGE = ipaddress.IPv4Network("10.244.0.0/16")


@dataclass(frozen=True)
class Port:
    number: int
    protocol: str = "TCP"
    name: str = ""

    def __str__(self) -> str:
        return f"{self.number}/{self.protocol}"


@dataclass(frozen=True)
class Endpoint:
    """A pod (with a namespace and labels) or an address outside the cluster's pods (namespace None), and
    the ports it listens on."""

    name: str
    ip: IP
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[Port, ...] = ()


def pods(docs: list[Manifest]) -> list[Endpoint]:
    """A pod of each rendered Deployment (its replicas are alike), named as the Deployment, listening on its
    containers' ports."""
    found = []
    addresses = POD_RANGE.hosts()
    for deployment in find(docs, "Deployment"):
        template = deployment["spec"]["template"]
        ports = tuple(
            Port(int(p["containerPort"]), p.get("protocol", "TCP"), p.get("name", ""))
            for c in template["spec"]["containers"]
            for p in c.get("ports", [])
        )
        found.append(
            Endpoint(
                deployment["metadata"]["name"],
                next(addresses),
                deployment["metadata"]["namespace"],
                dict(template["metadata"]["labels"]),
                ports,
            )
        )
    return found


def selects(selector: Manifest, labels: Mapping[str, str]) -> bool:
    """A label selector (`{}` selects everything)."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        holds = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not holds:
            return False
    return True


def policy_types(policy: Manifest) -> list[str]:
    spec = policy["spec"]
    if "policyTypes" in spec:
        return list(spec["policyTypes"])
    return ["Ingress", *(["Egress"] if "egress" in spec else [])]


@dataclass
class Cluster:
    policies: list[Manifest]
    namespaces: dict[str, dict[str, str]]  # name -> labels

    @classmethod
    def of(cls, docs: list[Manifest], others: Iterable[Endpoint] = ()) -> Cluster:
        """The rendered policies and namespaces, plus the namespaces of other endpoints (kube-system, ...)."""
        namespaces = {
            n["metadata"]["name"]: dict(n["metadata"].get("labels", {})) for n in find(docs, "Namespace")
        }
        for endpoint in [*others, *pods(docs)]:
            if endpoint.namespace is not None:
                namespaces.setdefault(endpoint.namespace, {})
        for name, labels in namespaces.items():
            labels["kubernetes.io/metadata.name"] = name
        return cls(find(docs, "NetworkPolicy"), namespaces)

    def allows(self, source: Endpoint, destination: Endpoint, port: Port) -> bool:
        """Whether `source` may open a connection to `destination` on `port` (one of the destination's)."""
        return self._open(source, "Egress", destination, port) and self._open(
            destination, "Ingress", source, port
        )

    def reachable(self, source: Endpoint, destination: Endpoint) -> set[str]:
        """The destination's ports the source may reach, as "50051/TCP"."""
        return {str(port) for port in destination.ports if self.allows(source, destination, port)}

    def _open(self, pod: Endpoint, direction: str, peer: Endpoint, port: Port) -> bool:
        """Whether `pod`'s policies let traffic in `direction` (to or from `peer`) through on `port`."""
        if pod.namespace is None:
            return True  # no pod: no policy
        isolating = [
            p
            for p in self.policies
            if p["metadata"]["namespace"] == pod.namespace
            and selects(p["spec"]["podSelector"], pod.labels)
            and direction in policy_types(p)
        ]
        if not isolating:
            return True
        rules, peers = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        return any(
            self._peer_matches(policy, rule.get(peers) or [{}], peer)
            and (not rule.get("ports") or _port_matches(rule["ports"], port))
            for policy in isolating
            for rule in policy["spec"].get(rules) or []
        )

    def _peer_matches(self, policy: Manifest, peers: list[Manifest], peer: Endpoint) -> bool:
        for candidate in peers:
            if not candidate:  # no `from`/`to` at all: every peer
                return True
            if "ipBlock" in candidate:
                block = candidate["ipBlock"]
                inside = peer.ip in ipaddress.ip_network(block["cidr"])
                if inside and not any(peer.ip in ipaddress.ip_network(e) for e in block.get("except", [])):
                    return True
                continue
            if peer.namespace is None:
                continue  # selectors choose pods only
            if "namespaceSelector" in candidate:
                in_namespace = selects(candidate["namespaceSelector"], self.namespaces[peer.namespace])
            else:
                in_namespace = peer.namespace == policy["metadata"]["namespace"]
            if in_namespace and selects(candidate.get("podSelector", {}), peer.labels):
                return True
        return False


def _port_matches(ports: list[Manifest], port: Port) -> bool:
    for candidate in ports:
        if candidate.get("protocol", "TCP") != port.protocol:
            continue
        wanted: int | str | None = candidate.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            if wanted == port.name:
                return True
        elif wanted <= port.number <= int(candidate.get("endPort", wanted)):
            return True
    return False
