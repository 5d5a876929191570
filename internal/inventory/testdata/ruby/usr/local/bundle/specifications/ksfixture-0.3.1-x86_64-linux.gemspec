# -*- encoding: utf-8 -*-
# stub: ksfixture 0.3.1 x86_64-linux lib

Gem::Specification.new do |s|
  s.name = "ksfixture".freeze
  s.version = "0.3.1"
  s.platform = "x86_64-linux".freeze

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.require_paths = ["lib".freeze]
  s.authors = ["Kubeshield".freeze]
  s.date = "2026-11-27"
  s.licenses = ["Apache-2.0".freeze, "MIT".freeze]
  s.rubygems_version = "3.3.15".freeze
  s.summary = "Kubeshield test fixture".freeze

  s.installed_by_version = "3.3.15" if s.respond_to? :installed_by_version
end
